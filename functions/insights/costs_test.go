package insights

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/grpc"

	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/queue"
	"github.com/innerjourney/functions/shared/testenv"
)

// rpcLog records the Firestore RPCs of a client: per method the calls,
// the documents asked for by BatchGetDocuments, and the writes of
// BatchWrite and Commit by kind.
type rpcLog struct {
	mu     sync.Mutex
	on     bool
	calls  map[string]int
	gets   []string
	writes map[string]int
}

func (l *rpcLog) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on, l.calls, l.gets, l.writes = true, map[string]int{}, nil, map[string]int{}
}

func (l *rpcLog) record(method string, req any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.on {
		return
	}
	l.calls[method[strings.LastIndex(method, "/")+1:]]++
	var ws []*firestorepb.Write
	switch r := req.(type) {
	case *firestorepb.BatchGetDocumentsRequest:
		for _, d := range r.Documents {
			_, rel, _ := strings.Cut(d, "/documents/")
			l.gets = append(l.gets, rel)
		}
	case *firestorepb.BatchWriteRequest:
		ws = r.Writes
	case *firestorepb.CommitRequest:
		ws = r.Writes
	}
	for _, w := range ws {
		l.writes[writeKind(w)]++
	}
}

// writeKind names a write by what it does and where: "create
// daily_insights", "set private", "update-at users", "delete …".
func writeKind(w *firestorepb.Write) string {
	var kind, name string
	switch op := w.Operation.(type) {
	case *firestorepb.Write_Update:
		name = op.Update.Name
		switch c := w.CurrentDocument.GetConditionType().(type) {
		case *firestorepb.Precondition_Exists:
			kind = map[bool]string{false: "create", true: "update"}[c.Exists]
		case *firestorepb.Precondition_UpdateTime:
			kind = "update-at"
		default:
			kind = "set"
		}
	case *firestorepb.Write_Delete:
		kind, name = "delete", op.Delete
	default:
		kind = fmt.Sprintf("%T", op)
	}
	_, rel, _ := strings.Cut(name, "/documents/")
	parts := strings.Split(rel, "/")
	return kind + " " + parts[len(parts)-2]
}

// loggedClient returns a client of the emulator's project whose RPCs l
// records.
func loggedClient(t *testing.T, project string, l *rpcLog) *firestore.Client {
	t.Helper()
	return interceptedClient(t, project,
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			l.record(method, req)
			return invoker(ctx, method, req, reply, cc, opts...)
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			s, err := streamer(ctx, desc, cc, method, opts...)
			return &loggedStream{ClientStream: s, method: method, l: l}, err
		}))
}

// interceptedClient returns a client of the emulator's project, as its
// owner, on a connection with the given interceptors.
func interceptedClient(t *testing.T, project string, interceptors ...grpc.DialOption) *firestore.Client {
	t.Helper()
	return testenv.FirestoreEmulator(t).InterceptedClient(t, project, interceptors...)
}

type loggedStream struct {
	grpc.ClientStream
	method string
	l      *rpcLog
}

func (s *loggedStream) SendMsg(m any) error {
	s.l.record(s.method, m)
	return s.ClientStream.SendMsg(m)
}

// TestDeliveryCosts pins what a worker costs Firestore per user on the
// happy path (the end-to-end benchmark's budget): one BatchGetDocuments of
// the shard's state documents (the users come from the fan-out's
// snapshots) and four writes a user (create the insight, create the
// notification, set the state, update insightDueAt with an update-time
// precondition), nothing else. Without a Rewriter (nil or NoRewriter)
// that is all; with one, the same BatchGetDocuments also reads each
// user's consents/{uid} and insight of the date (two more documents a
// user), and one more BatchGetDocuments after rewriting reads the
// consents/{uid} of the users whose insight was rewritten again (a
// revocation made while the model answered keeps the template wording);
// the writes are the same.
func TestDeliveryCosts(t *testing.T) {
	tests := []struct {
		name     string
		rewriter Rewriter
	}{
		{"no rewriter", nil},
		{"NoRewriter", NoRewriter{}},
		{"rewriter", &fakeRewriter{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := testenv.FirestoreEmulator(t)
			log := &rpcLog{}
			c := loggedClient(t, fs.NewProject(t), log)
			rec := &queue.Recorder{}
			h := &harness{t: t, c: c, rec: rec, s: &Service{Firestore: c, Publisher: rec, Now: func() time.Time { return clock },
				ShardSize: 10, Rewriter: tt.rewriter}}
			rewriting := h.s.rewriter() != nil
			const n = 6
			for i := range n {
				u := user{zone: "Europe/Stockholm", optIn: true, due: atp("2026-11-21T06:00:00Z"), birth: fmt.Sprintf("199%d-05-15", i), chart: i%2 == 0}
				uid := fmt.Sprint("c", i)
				h.put(uid, u)
				if i%2 == 0 {
					h.consent(uid, model.ConsentGranted)
				}
			}
			data := h.fanoutOne()

			log.start()
			st, err := h.worker(data, time.Minute)
			wantRewritten := 0
			if rewriting {
				wantRewritten = n / 2
			}
			if err != nil || st.Created != n || st.Rewritten != wantRewritten {
				t.Fatalf("worker: %+v %v, want %d created, %d rewritten", st, err, n, wantRewritten)
			}
			log.mu.Lock()
			calls, gets, writes := log.calls, log.gets, log.writes
			log.on = false
			log.mu.Unlock()
			t.Logf("RPCs %v; read %d documents; writes %v", calls, len(gets), writes)
			var wantGets []string
			for i := range n {
				wantGets = append(wantGets, fmt.Sprintf("users/c%d/private/%s", i, StateDoc))
				if rewriting {
					wantGets = append(wantGets, fmt.Sprintf("%s/c%d", model.ColConsents, i),
						fmt.Sprintf("users/c%d/%s/2026-11-21", i, model.SubColInsights))
					if i%2 == 0 { // rewritten: its consent read again
						wantGets = append(wantGets, fmt.Sprintf("%s/c%d", model.ColConsents, i))
					}
				}
			}
			sort.Strings(gets)
			sort.Strings(wantGets)
			if strings.Join(gets, " ") != strings.Join(wantGets, " ") {
				t.Errorf("read %v, want %v", gets, wantGets)
			}
			wantBatches := 1
			if rewriting {
				wantBatches = 2
			}
			if calls["BatchGetDocuments"] != wantBatches {
				t.Errorf("reads: %d documents in %d BatchGetDocuments, want %d in %d", len(gets), calls["BatchGetDocuments"], len(wantGets), wantBatches)
			}
			want := map[string]int{"create " + model.SubColInsights: n, "create " + model.SubColNotes: n,
				"set " + model.SubColPrivate: n, "update-at " + model.ColUsers: n}
			if fmt.Sprint(writes) != fmt.Sprint(want) {
				t.Errorf("writes %v, want %v", writes, want)
			}
			for m := range calls {
				if m != "BatchGetDocuments" && m != "BatchWrite" {
					t.Errorf("unexpected RPC %s ×%d", m, calls[m])
				}
			}
		})
	}
}
