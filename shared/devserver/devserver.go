// Package devserver serves the functions locally the way production
// delivers to them. functions-framework-go serves every registered
// function on an internal port; in front of it the adapter:
//
//   - accepts the Firestore emulator's trigger deliveries at
//     /functions/projects/{project}/triggers/{name} and makes them look like
//     Eventarc's: the base64-encoded DocumentEventData body decoded to raw
//     protobuf, the duplicate ce-datacontenttype header removed (it makes
//     the CloudEvents SDK reject the event), the doubled "projects/" in
//     ce-source repaired;
//   - accepts Pub/Sub emulator push deliveries at /pubsub/{name}?topic=T
//     and turns the push envelope into the binary-mode
//     google.cloud.pubsub.topic.v1.messagePublished CloudEvent Eventarc
//     sends;
//   - passes everything else (/{name} for HTTP functions and callables)
//     through unchanged.
package devserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

// MaxEventBytes bounds an event body accepted by the adapter.
const MaxEventBytes = 10 << 20

var triggerPath = regexp.MustCompile(`^/functions/projects/([^/]+)/triggers/([^/]+)$`)

// Adapter returns the front handler proxying to backend (the framework).
func Adapter(backend *url.URL) http.Handler {
	proxy := httputil.NewSingleHostReverseProxy(backend)
	mux := http.NewServeMux()
	mux.HandleFunc("/functions/projects/", func(w http.ResponseWriter, r *http.Request) {
		m := triggerPath.FindStringSubmatch(r.URL.Path)
		if m == nil {
			http.Error(w, "unknown trigger path", http.StatusNotFound)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxEventBytes))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		body = DecodeEmulatorBody(body)
		r.Header.Del("Ce-Datacontenttype")
		if src := r.Header.Get("Ce-Source"); src != "" {
			r.Header.Set("Ce-Source", strings.Replace(src, "/projects/projects/", "/projects/", 1))
		}
		if r.Header.Get("Content-Type") == "" {
			r.Header.Set("Content-Type", "application/protobuf")
		}
		forward(proxy, w, r, "/"+m[2], body)
	})
	mux.HandleFunc("/pubsub/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/pubsub/")
		if name == "" || strings.Contains(name, "/") {
			http.Error(w, "unknown push path", http.StatusNotFound)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxEventBytes))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		ce, hdr, err := PushToCloudEvent(body, r.URL.Query().Get("topic"))
		if err != nil {
			// A malformed push can never succeed: acknowledge it (any
			// non-2xx makes Pub/Sub redeliver forever) and log it.
			slog.WarnContext(r.Context(), "dropping malformed push", "function", name, "error", err.Error())
			w.WriteHeader(http.StatusNoContent)
			return
		}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		forward(proxy, w, r, "/"+name, ce)
	})
	mux.Handle("/", proxy)
	return mux
}

func forward(proxy http.Handler, w http.ResponseWriter, r *http.Request, path string, body []byte) {
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath, r2.URL.RawQuery = path, "", ""
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	r2.Header.Set("Content-Length", strconv.Itoa(len(body)))
	proxy.ServeHTTP(w, r2)
}

// DecodeEmulatorBody returns the raw protobuf of an emulator delivery: the
// body base64-decoded when it is entirely base64 text, else unchanged.
func DecodeEmulatorBody(body []byte) []byte {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return body
	}
	for _, c := range trimmed {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return body
		}
	}
	dec, err := base64.StdEncoding.DecodeString(string(trimmed))
	if err != nil {
		return body
	}
	return dec
}

type pushEnvelope struct {
	Subscription string `json:"subscription"`
	Message      struct {
		Data        string            `json:"data"`
		Attributes  map[string]string `json:"attributes"`
		MessageID   string            `json:"messageId"`
		MessageID2  string            `json:"message_id"`
		PublishTime string            `json:"publishTime"`
		PublishTim2 string            `json:"publish_time"`
		OrderingKey string            `json:"orderingKey"`
	} `json:"message"`
}

// PushToCloudEvent converts a Pub/Sub push body into the body and ce-*
// headers of a binary-mode messagePublished CloudEvent for topic
// ("projects/P/topics/T").
func PushToCloudEvent(body []byte, topic string) ([]byte, map[string]string, error) {
	var env pushEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, nil, fmt.Errorf("push envelope: %w", err)
	}
	id := env.Message.MessageID
	if id == "" {
		id = env.Message.MessageID2
	}
	if id == "" {
		return nil, nil, fmt.Errorf("push envelope: no message id")
	}
	pt := env.Message.PublishTime
	if pt == "" {
		pt = env.Message.PublishTim2
	}
	if pt == "" {
		pt = time.Now().UTC().Format(time.RFC3339Nano)
	}
	msg := map[string]any{"data": env.Message.Data, "messageId": id, "publishTime": pt}
	if len(env.Message.Attributes) > 0 {
		msg["attributes"] = env.Message.Attributes
	}
	if env.Message.OrderingKey != "" {
		msg["orderingKey"] = env.Message.OrderingKey
	}
	out, err := json.Marshal(map[string]any{"message": msg, "subscription": env.Subscription})
	if err != nil {
		return nil, nil, err
	}
	return out, map[string]string{
		"Content-Type":   "application/json",
		"Ce-Specversion": "1.0",
		"Ce-Type":        "google.cloud.pubsub.topic.v1.messagePublished",
		"Ce-Source":      "//pubsub.googleapis.com/" + topic,
		"Ce-Id":          id,
		"Ce-Time":        pt,
	}, nil
}

// StartFramework serves every function registered with
// functions-framework-go on a free loopback port and returns its URL once
// it accepts connections. The server runs until the process exits.
func StartFramework(ctx context.Context) (*url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	errc := make(chan error, 1)
	go func() { errc <- funcframework.StartHostPort("127.0.0.1", strconv.Itoa(port)) }()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-errc:
			return nil, fmt.Errorf("functions framework: %w", err)
		case <-ctx.Done():
			return nil, ctx.Err()
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return &url.URL{Scheme: "http", Host: addr}, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, fmt.Errorf("functions framework did not start on %s", addr)
}
