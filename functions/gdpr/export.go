package gdpr

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	"firebase.google.com/go/v4/auth"
	"google.golang.org/genproto/googleapis/type/latlng"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// ExportFormat and ExportSchemaVersion identify the archive's layout. The
// version changes when a file's shape changes incompatibly.
const (
	ExportFormat        = "innerjourney-export"
	ExportSchemaVersion = "1.0"
)

// Manifest is manifest.json, the archive's table of contents.
type Manifest struct {
	Format        string         `json:"format"`
	SchemaVersion string         `json:"schemaVersion"`
	GeneratedAt   time.Time      `json:"generatedAt"`
	RequestID     string         `json:"requestId"`
	Subject       map[string]any `json:"subject"`
	Files         []ManifestFile `json:"files"`
	Media         []ManifestFile `json:"media"`
	Omitted       []Omission     `json:"omitted"`
}

// ManifestFile describes one file of the archive.
type ManifestFile struct {
	Path        string `json:"path"`
	Collection  string `json:"collection,omitempty"`
	Rule        string `json:"rule,omitempty"`
	Documents   int    `json:"documents,omitempty"`
	Object      string `json:"object,omitempty"`
	Bytes       int64  `json:"bytes,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	Description string `json:"description,omitempty"`
}

// Omission says what the archive leaves out on purpose, and why.
type Omission struct {
	What string `json:"what"`
	Why  string `json:"why"`
}

// ExportDoc is one document in a data file: its id, path and fields (JSON
// values: timestamps RFC 3339, bytes base64, references as paths).
type ExportDoc struct {
	ID   string         `json:"id"`
	Path string         `json:"path"`
	Data map[string]any `json:"data"`
}

var omissions = []Omission{
	{"sessions.data", "one-time verification codes: security material that expires within minutes"},
	{"users/{uid}/private fields named like secrets, tokens, codes", "security material"},
	{"live_sessions: other participants and their reflections", "other people's personal data"},
	{"programs: other creators and their revenue splits", "other people's personal data"},
	{"sales of the subject's programs (payments found by programTerms.coachIds): the customer (userId, customerId, invoice), amounts, refunds, disputes, and the other coaches and their shares", "other people's personal data"},
	{"wellbeing_events.ackedBy, audit_log.actor, gdpr_requests.requestedBy (staff)", "staff identities (shown as \"staff\")"},
	{"webhook_events, processed_events, jobs, crisis_resources, billing_plans", "not linked to a person"},
}

type exportResult struct {
	Path   string
	Bytes  int64
	SHA256 string
}

// exportCtx is what an exporter knows.
type exportCtx struct {
	uid, ps string
}

func exportSteps() []step {
	return []step{{"plan", planStep}, {"export", exportStep}, {"finish", finishStep}}
}

// exportPath is where the archive of a request is written.
func exportPath(uid, requestID string) string {
	return exportPrefix + uid + "/" + requestID + ".zip"
}

// countingWriter counts bytes.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// exportStep writes the archive to Storage in one stream (a crashed run
// writes it again from the start: the object is replaced atomically when
// the upload completes).
func exportStep(ctx context.Context, r *run) error {
	if r.s.Storage == nil || r.s.Bucket == "" {
		return fault.New(fault.FailedPrecondition, "storage not configured")
	}
	if err := r.s.refuseIfErased(ctx, r.uid); err != nil {
		return err
	}
	path := exportPath(r.uid, r.req.RequestID)
	w := r.s.Storage.Bucket(r.s.Bucket).Object(path).NewWriter(ctx)
	w.ContentType = "application/zip"
	w.ContentDisposition = `attachment; filename="innerjourney-export.zip"`
	h, cnt := sha256.New(), &countingWriter{}
	if err := r.s.WriteArchive(ctx, io.MultiWriter(w, h, cnt), r.uid, r.req.RequestID, func(n int) { r.count("export", int64(n)) }); err != nil {
		//lint:ignore SA1019 cancelling NewWriter's context instead races a Close: the upload can still commit (TestReview11ExportArchiveMatchesRecordAfterLeaseTakeover).
		_ = w.CloseWithError(err)
		return err
	}
	// The upload replaces the object only at Close: commit it only while
	// this run still holds the lease (renewed here), never over the
	// archive a run that took over has written and recorded.
	if err := r.beat(ctx, true); err != nil {
		//lint:ignore SA1019 see above: CloseWithError abandons the upload, a cancelled context may not.
		_ = w.CloseWithError(err)
		return err
	}
	if err := w.Close(); err != nil {
		return fault.Wrap(err, fault.Unavailable, "gdpr: upload export")
	}
	r.export = &exportResult{Path: path, Bytes: cnt.n, SHA256: hex.EncodeToString(h.Sum(nil))}
	return nil
}

// notifyReady runs inside the transaction that marks an export done: it
// tells the user in the app that the archive is ready (the notification
// names only the request), unless there is no profile to attach it to.
// Written with done, never before it: a run stopped between its upload
// and done (a crash, a timeout) would otherwise have told the user of an
// export that getExportDownload refuses as not ready until the sweeper's
// rerun, and that rerun's archive would hold the notice of its own
// readiness. Errors: the transaction's read.
func (r *run) notifyReady(tx *firestore.Transaction) error {
	user := r.s.Firestore.Collection(model.ColUsers).Doc(r.uid)
	if _, err := tx.Get(user); store.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	n := model.Notification{UserID: r.uid, Kind: "gdpr_export_ready", Title: "Your data export is ready",
		Body: "Download it in Settings → Privacy within 7 days.", Ref: r.req.RequestID, CreatedAt: r.s.now()}
	return tx.Set(user.Collection(model.SubColNotes).Doc("gdpr_export_"+r.req.RequestID), n)
}

// WriteArchive writes the export of uid as a zip to w: manifest.json,
// data/<rule>.json per policy rule that exports, data/users/… for the
// users/{uid} subtree, and media/<object> for the subject's Storage
// objects (exports excluded). progress, when set, is told how many
// documents and objects each file added.
func (s *Service) WriteArchive(ctx context.Context, w io.Writer, uid, requestID string, progress func(n int)) error {
	zw := zip.NewWriter(w)
	x := &exportCtx{uid: uid, ps: s.pseudonym(uid)}
	m := Manifest{Format: ExportFormat, SchemaVersion: ExportSchemaVersion, GeneratedAt: s.now(), RequestID: requestID,
		Subject: map[string]any{"uid": uid}, Files: []ManifestFile{}, Media: []ManifestFile{}, Omitted: omissions}
	tell := func(n int) {
		if progress != nil {
			progress(n)
		}
	}
	for _, p := range Policies {
		for _, rule := range p.Rules {
			if rule.export == nil {
				continue
			}
			var docs []*firestore.DocumentSnapshot
			var err error
			switch rule.Match {
			case MatchDocID:
				snap, gerr := s.Firestore.Collection(p.Collection).Doc(uid).Get(ctx)
				switch {
				case store.IsNotFound(gerr):
				case gerr != nil:
					err = gerr
				default:
					docs = append(docs, snap)
				}
				if err == nil && rule.Kind == KindDeleteSubtree {
					// The documents below it (coach_profiles/{uid}/private/connect).
					var below []*firestore.DocumentSnapshot
					below, err = s.subtreeDocs(ctx, s.Firestore.Collection(p.Collection).Doc(uid))
					docs = append(docs, below...)
				}
			case MatchQuery:
				q, berr := rule.Query.Build(s.Firestore, rule.value(uid, x.ps))
				if berr != nil {
					return fault.Wrap(berr, fault.Internal, "gdpr: query "+rule.ID)
				}
				docs, err = q.Documents(ctx).GetAll()
			case MatchVia:
				docs, err = s.viaDocs(ctx, rule, uid)
			}
			if err != nil {
				return store.Classify("gdpr: export "+rule.ID, err)
			}
			var out []ExportDoc
			for _, d := range docs {
				if v, ok := rule.export(x, d); ok {
					out = append(out, ExportDoc{ID: d.Ref.ID, Path: relPath(d.Ref), Data: redactPrivate(d.Ref, v)})
				}
			}
			file := "data/" + rule.ID + ".json"
			if err := writeJSON(zw, file, out); err != nil {
				return err
			}
			m.Files = append(m.Files, ManifestFile{Path: file, Collection: collectionOf(p, rule), Rule: rule.ID,
				Documents: len(out), Description: p.Export})
			tell(len(out))
		}
	}
	// users/{uid} and every subcollection below it.
	files, err := s.exportTree(ctx, zw, s.Firestore.Collection(model.ColUsers).Doc(uid), "data/users")
	if err != nil {
		return err
	}
	for _, f := range files {
		tell(f.Documents)
	}
	m.Files = append(m.Files, files...)
	// The sign-in account as Firebase Auth holds it.
	af, err := s.exportAuth(ctx, zw, uid)
	if err != nil {
		return err
	}
	if af != nil {
		m.Files = append(m.Files, *af)
		tell(af.Documents)
	}
	objs, err := s.storageObjects(ctx, uid, false, true)
	if err != nil {
		return err
	}
	for _, name := range objs {
		mf, err := s.exportObject(ctx, zw, name)
		if err != nil {
			return err
		}
		if mf != nil {
			m.Media = append(m.Media, *mf)
			tell(1)
		}
	}
	if err := writeJSON(zw, "manifest.json", m); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fault.Wrap(err, fault.Unavailable, "gdpr: write archive")
	}
	return nil
}

// authExportFile is the archive's file of the subject's sign-in account.
const authExportFile = "data/auth.json"

// exportAuth writes authExportFile: the subject's Firebase Auth account
// (what the user gave to sign in: e-mail address, phone number, display
// name, photo; the sign-in providers; creation and sign-in times; whether
// it is disabled; and its custom claims, which other functions set: the
// payments webhook's entitlements, roles). Security material (password
// hashes, tokens) is not part of what GetUser returns. Without an Auth
// client, or without an account, there is no file (nil); a failed lookup
// is retryable.
func (s *Service) exportAuth(ctx context.Context, zw *zip.Writer, uid string) (*ManifestFile, error) {
	if s.Auth == nil {
		return nil, nil
	}
	u, err := s.Auth.GetUser(ctx, uid)
	if auth.IsUserNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fault.Wrap(err, fault.Unavailable, "gdpr: auth lookup")
	}
	ms := func(v int64) any {
		if v == 0 {
			return nil
		}
		return time.UnixMilli(v).UTC().Format(time.RFC3339Nano)
	}
	providers := []any{}
	for _, p := range u.ProviderUserInfo {
		if p == nil {
			continue
		}
		providers = append(providers, map[string]any{"providerId": p.ProviderID, "uid": p.UID, "email": p.Email,
			"phoneNumber": p.PhoneNumber, "displayName": p.DisplayName, "photoUrl": p.PhotoURL})
	}
	data := map[string]any{"uid": u.UID, "email": u.Email, "emailVerified": u.EmailVerified, "phoneNumber": u.PhoneNumber,
		"displayName": u.DisplayName, "photoUrl": u.PhotoURL, "disabled": u.Disabled, "providers": providers,
		"customClaims": jsonValue(u.CustomClaims)}
	if md := u.UserMetadata; md != nil {
		data["createdAt"], data["lastSignInAt"], data["lastRefreshAt"] = ms(md.CreationTimestamp), ms(md.LastLogInTimestamp), ms(md.LastRefreshTimestamp)
	}
	if u.CustomClaims == nil {
		data["customClaims"] = map[string]any{}
	}
	if err := writeJSON(zw, authExportFile, []ExportDoc{{ID: u.UID, Path: "auth/" + u.UID, Data: data}}); err != nil {
		return nil, err
	}
	return &ManifestFile{Path: authExportFile, Collection: "auth", Rule: "auth", Documents: 1, Description: authExport}, nil
}

// exportTree writes doc (as <file>.json) and every collection below it,
// one file per collection (<file>/<path below doc>.json). Documents are
// read with a descendant query per collection id; the collections below
// each exported document are listed (16 at a time) to discover ids no
// policy names, until no new id turns up.
func (s *Service) exportTree(ctx context.Context, zw *zip.Writer, doc *firestore.DocumentRef, file string) ([]ManifestFile, error) {
	var files []ManifestFile
	snap, err := doc.Get(ctx)
	if err != nil && !store.IsNotFound(err) {
		return nil, store.Classify("gdpr: export "+doc.Path, err)
	}
	if err == nil {
		d := []ExportDoc{{ID: doc.ID, Path: relPath(doc), Data: jsonMap(snap.Data())}}
		if err := writeJSON(zw, file+".json", d); err != nil {
			return nil, err
		}
		files = append(files, ManifestFile{Path: file + ".json", Collection: doc.Parent.ID, Documents: 1,
			Description: policyExport(doc.Parent.ID)})
	}
	below, err := s.subtreeDocs(ctx, doc)
	if err != nil {
		return nil, err
	}
	groups := map[string][]ExportDoc{}
	ids := map[string]string{}
	for _, d := range below {
		id := d.Ref.Parent.ID
		data := redactPrivate(d.Ref, jsonMap(d.Data()))
		col := strings.TrimPrefix(relPath(d.Ref), relPath(doc)+"/")
		col = col[:strings.LastIndex(col, "/")]
		groups[col] = append(groups[col], ExportDoc{ID: d.Ref.ID, Path: relPath(d.Ref), Data: data})
		ids[col] = id
	}
	cols := make([]string, 0, len(groups))
	for c := range groups {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	for _, c := range cols {
		name := file + "/" + c + ".json"
		if err := writeJSON(zw, name, groups[c]); err != nil {
			return nil, err
		}
		files = append(files, ManifestFile{Path: name, Collection: ids[c], Documents: len(groups[c]), Description: policyExport(ids[c])})
	}
	return files, nil
}

// subtreeDocs reads every document below doc (not doc itself), at any
// depth: one descendant query per collection id, following the
// collections below the documents it finds.
func (s *Service) subtreeDocs(ctx context.Context, doc *firestore.DocumentRef) ([]*firestore.DocumentSnapshot, error) {
	queue, err := subtreeIDs(ctx, doc)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []*firestore.DocumentSnapshot
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		q, err := descendants(doc, id)
		if err != nil {
			return nil, err
		}
		docs, err := q.Documents(ctx).GetAll()
		if err != nil {
			return nil, store.Classify("gdpr: export "+id, err)
		}
		out = append(out, docs...)
		more, err := childCollectionIDs(ctx, docs)
		if err != nil {
			return nil, err
		}
		queue = append(queue, more...)
	}
	return out, nil
}

// childCollectionIDs lists the collection ids directly below docs.
func childCollectionIDs(ctx context.Context, docs []*firestore.DocumentSnapshot) ([]string, error) {
	var (
		mu    sync.Mutex
		out   []string
		first error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, 16)
	for _, d := range docs {
		wg.Add(1)
		sem <- struct{}{}
		go func(ref *firestore.DocumentRef) {
			defer func() { <-sem; wg.Done() }()
			cols, err := ref.Collections(ctx).GetAll()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = store.Classify("gdpr: list collections", err)
				}
				return
			}
			for _, c := range cols {
				out = append(out, c.ID)
			}
		}(d.Ref)
	}
	wg.Wait()
	return out, first
}

func policyExport(collection string) string {
	if p, ok := PolicyFor(collection); ok {
		return p.Export
	}
	return ""
}

// exportObject copies one Storage object into media/<name>.
func (s *Service) exportObject(ctx context.Context, zw *zip.Writer, name string) (*ManifestFile, error) {
	rd, err := s.Storage.Bucket(s.Bucket).Object(name).NewReader(ctx)
	if err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, fault.Wrap(err, fault.Unavailable, "gdpr: read object")
	}
	defer rd.Close()
	zf, err := zw.CreateHeader(&zip.FileHeader{Name: "media/" + name, Method: zip.Store, Modified: rd.Attrs.LastModified})
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "gdpr: zip")
	}
	n, err := io.Copy(zf, rd)
	if err != nil {
		return nil, fault.Wrap(err, fault.Unavailable, "gdpr: copy object")
	}
	return &ManifestFile{Path: "media/" + name, Object: name, Bytes: n, ContentType: rd.Attrs.ContentType}, nil
}

// writeJSON writes v as an indented JSON file into the archive.
func writeJSON(zw *zip.Writer, name string, v any) error {
	f, err := zw.Create(name)
	if err != nil {
		return fault.Wrap(err, fault.Internal, "gdpr: zip")
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fault.Wrap(err, fault.Internal, "gdpr: encode "+name)
	}
	return nil
}

// relPath is a document's path below ".../documents/".
func relPath(ref *firestore.DocumentRef) string {
	p := ref.Path
	if i := strings.Index(p, "/documents/"); i >= 0 {
		return p[i+len("/documents/"):]
	}
	return p
}

// jsonMap converts Firestore values to JSON values.
func jsonMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = jsonValue(v)
	}
	return out
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case *firestore.DocumentRef:
		if x == nil {
			return nil
		}
		return relPath(x)
	case *latlng.LatLng:
		if x == nil {
			return nil
		}
		return map[string]any{"latitude": x.Latitude, "longitude": x.Longitude}
	case map[string]any:
		return jsonMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	}
	return v
}

// redactPrivate is the export of the document at ref with data: what is
// in a private subcollection (users/{uid}/private, coach_profiles/{uid}/
// private) loses its security material (redactSecrets); anything else is
// data unchanged. Every exported document goes through it.
func redactPrivate(ref *firestore.DocumentRef, data map[string]any) map[string]any {
	if ref.Parent.ID == model.SubColPrivate {
		return redactSecrets(data)
	}
	return data
}

// redactSecrets drops fields whose names say they hold security material.
func redactSecrets(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		l := strings.ToLower(k)
		if strings.Contains(l, "secret") || strings.Contains(l, "token") || strings.Contains(l, "code") ||
			strings.Contains(l, "otp") || strings.Contains(l, "password") {
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			v = redactSecrets(sub)
		}
		out[k] = v
	}
	return out
}

// The exporters of the policy table.

func exportAll(_ *exportCtx, snap *firestore.DocumentSnapshot) (map[string]any, bool) {
	return jsonMap(snap.Data()), true
}

func exportSession(_ *exportCtx, snap *firestore.DocumentSnapshot) (map[string]any, bool) {
	m := jsonMap(snap.Data())
	delete(m, "data")
	return m, true
}

func pick(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = jsonValue(v)
		}
	}
	return out
}

// exportLiveParticipant exports a live session the subject takes part in
// or reflected in (rules live_sessions.participants and
// live_sessions.reflectionUserIds): the session's title, times and status
// and the subject's own reflections, nothing about other participants.
func exportLiveParticipant(x *exportCtx, snap *firestore.DocumentSnapshot) (map[string]any, bool) {
	d := snap.Data()
	out := pick(d, "liveSessionId", "title", "startTime", "endTime", "status")
	mine := []any{}
	list, _ := d["reflections"].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m["userId"] == x.uid {
			mine = append(mine, pick(m, "text", "submittedAt"))
		}
	}
	out["myReflections"] = mine
	return out, true
}

func exportLiveHosted(_ *exportCtx, snap *firestore.DocumentSnapshot) (map[string]any, bool) {
	d := snap.Data()
	out := pick(d, "liveSessionId", "title", "startTime", "endTime", "status", "maxParticipants", "meetingUrl", "activationId", "programId")
	list, _ := d["participants"].([]any)
	out["participantCount"] = len(list)
	return out, true
}

func exportProgram(x *exportCtx, snap *firestore.DocumentSnapshot) (map[string]any, bool) {
	m := jsonMap(snap.Data())
	m["createdBy"] = []any{x.uid}
	if splits, ok := m["coachSplits"].(map[string]any); ok {
		m["coachSplits"] = pick(splits, x.uid)
	}
	return m, true
}

// exportSaleTerms exports a sale of a program the subject coaches (rule
// payments.programTerms.coachIds) as far as it concerns them, the way
// exportProgram exports a program and exportAllocation their share: the
// payment's id, program, date, currency and status, and the terms frozen
// when it was paid with coachIds reduced to the subject and coachSplits
// to the subject's share. The customer (userId, customerId, invoiceUrl),
// the amounts, refunds and disputes, and the other coaches are left out.
func exportSaleTerms(x *exportCtx, snap *firestore.DocumentSnapshot) (map[string]any, bool) {
	d := snap.Data()
	out := pick(d, "paymentId", "programId", "paymentDate", "currency", "status")
	t, _ := d["programTerms"].(map[string]any)
	terms := pick(t, "programFound", "commissionBps", "coachSplitsInvalid", "programCreateTime", "programUpdateTime", "frozenAt")
	terms["coachIds"] = []any{x.uid}
	if splits, ok := t["coachSplits"].(map[string]any); ok {
		terms["coachSplits"] = pick(splits, x.uid)
	}
	out["programTerms"] = terms
	return out, true
}

func exportWellbeing(_ *exportCtx, snap *firestore.DocumentSnapshot) (map[string]any, bool) {
	m := jsonMap(snap.Data())
	if _, ok := m["ackedBy"]; ok {
		m["ackedBy"] = "staff"
	}
	return m, true
}

// exportPayout exports a payout of the subject as a coach in full, except
// the operator who released a failed payout (release.by, ops payouts
// retry), who appears as "staff", as staff do in the other records.
func exportPayout(_ *exportCtx, snap *firestore.DocumentSnapshot) (map[string]any, bool) {
	m := jsonMap(snap.Data())
	if r, ok := m["release"].(map[string]any); ok {
		if _, ok := r["by"]; ok {
			r["by"] = "staff"
		}
	}
	return m, true
}

func exportRequest(x *exportCtx, snap *firestore.DocumentSnapshot) (map[string]any, bool) {
	m := jsonMap(snap.Data())
	for _, k := range []string{"leaseOwner", "leaseUntil", "checkpoint"} {
		delete(m, k)
	}
	if rb, _ := m["requestedBy"].(string); rb != x.uid {
		m["requestedBy"] = "staff"
	}
	return m, true
}

func exportAllocation(x *exportCtx, snap *firestore.DocumentSnapshot) (map[string]any, bool) {
	d := snap.Data()
	if !mentionsCoach(snap, x.uid) {
		return nil, false
	}
	out := pick(d, "paymentId", "programId", "currency", "createdAt", "updatedAt")
	if w, ok := d["weights"].(map[string]any); ok {
		out["myWeight"] = w[x.uid]
	}
	mine := []any{}
	list, _ := d["entries"].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m["coachId"] == x.uid {
			mine = append(mine, jsonMap(m))
		}
	}
	out["myEntries"] = mine
	return out, true
}

func exportAudit(x *exportCtx, snap *firestore.DocumentSnapshot) (map[string]any, bool) {
	m := jsonMap(snap.Data())
	if a, _ := m["actor"].(string); a == x.uid || a == x.ps {
		m["actor"] = "self"
	} else {
		m["actor"] = "staff"
	}
	return m, true
}

func isNotExist(err error) bool { return errors.Is(err, storage.ErrObjectNotExist) }
