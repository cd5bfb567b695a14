package testenv

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
)

// Firestore is the running Cloud Firestore emulator.
type Firestore struct {
	// Host is host:port of the emulator.
	Host string
}

// FirestoreEmulator returns the shared Firestore emulator, starting it if
// needed, and points FIRESTORE_EMULATOR_HOST of this process at it.
func FirestoreEmulator(t testing.TB) *Firestore {
	t.Helper()
	h := ensure(t, firestoreService)
	os.Setenv("FIRESTORE_EMULATOR_HOST", h)
	return &Firestore{Host: h}
}

var projectSeq atomic.Int64

// NewProject returns a project id of its own for the test: in the
// emulator every project is a separate database, so tests never see each
// other's documents. Its documents are deleted when the test ends.
func (f *Firestore) NewProject(t testing.TB) string {
	t.Helper()
	sum := sha1.Sum([]byte(fmt.Sprintf("%s/%d/%d/%d", t.Name(), os.Getpid(), projectSeq.Add(1), time.Now().UnixNano())))
	p := "demo-t-" + hex.EncodeToString(sum[:6])
	t.Cleanup(func() { f.Clear(t, p) })
	return p
}

// Client returns an Admin Firestore client for project (it bypasses the
// rules), closed when the test ends.
func (f *Firestore) Client(t testing.TB, project string) *firestore.Client {
	t.Helper()
	c, err := firestore.NewClient(context.Background(), project)
	if err != nil {
		t.Fatalf("testenv: firestore client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Clear deletes every document of project.
func (f *Firestore) Clear(t testing.TB, project string) {
	t.Helper()
	status, body := f.do("DELETE", "/emulator/v1/projects/"+project+"/databases/(default)/documents", "owner", nil)
	if status != http.StatusOK {
		t.Errorf("testenv: clear %s: %d %s", project, status, body)
	}
}

// LoadRules installs rules (the text of a firestore.rules file) for project.
func (f *Firestore) LoadRules(t testing.TB, project, rules string) {
	t.Helper()
	body := map[string]any{"rules": map[string]any{"files": []map[string]string{{"name": "firestore.rules", "content": rules}}}}
	status, resp := f.do("PUT", "/emulator/v1/projects/"+project+":securityRules", "owner", body)
	if status != http.StatusOK {
		t.Fatalf("testenv: load rules: %d %s", status, resp)
	}
}

// LoadRepoRules installs the repository's firestore.rules for project.
func (f *Firestore) LoadRepoRules(t testing.TB, project string) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "firestore.rules"))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	f.LoadRules(t, project, string(b))
}

// RegisterTrigger asks the emulator to deliver events of eventType for
// documents matching pattern (e.g. "users/{uid}") in project to
// http://127.0.0.1:TriggerPort/functions/projects/{project}/triggers/{name}.
func (f *Firestore) RegisterTrigger(t testing.TB, project, name, eventType, pattern string) {
	t.Helper()
	body := map[string]any{
		"eventType": eventType, "database": "(default)", "namespace": "(default)",
		"document": map[string]string{"value": pattern, "matchType": "PATH_PATTERN"},
	}
	status, resp := f.do("POST", "/emulator/v1/projects/"+project+"/eventarcTrigger?eventarcTriggerId="+name, "owner", body)
	if status != http.StatusOK {
		t.Fatalf("testenv: register trigger %s: %d %s", name, status, resp)
	}
}

// REST performs a Firestore REST call on project as the caller whose ID
// token is token ("owner" bypasses the rules; "" sends no Authorization
// header). path is relative to .../databases/(default)/documents, e.g.
// "/users/u1" or ":runQuery". It returns the status and decoded body.
func (f *Firestore) REST(project, method, path, token string, body any) (int, map[string]any) {
	status, raw := f.do(method, "/v1/projects/"+project+"/databases/(default)/documents"+path, token, body)
	var out map[string]any
	if len(raw) > 0 && raw[0] == '[' {
		var list []any
		_ = json.Unmarshal(raw, &list)
		out = map[string]any{"results": list}
	} else {
		_ = json.Unmarshal(raw, &out)
	}
	return status, out
}

var restClient = &http.Client{Timeout: 120 * time.Second}

func (f *Firestore) do(method, path, token string, body any) (int, []byte) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, []byte(err.Error())
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+f.Host+path, rd)
	if err != nil {
		return 0, []byte(err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := restClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// UnsignedIDToken returns an unsigned Firebase ID token (header
// {"alg":"none"}) for uid in project, which the emulator accepts for rules
// evaluation. claims are added at the top level (e.g. {"coach": true}).
func UnsignedIDToken(project, uid string, claims map[string]any) string {
	now := time.Now().Unix()
	c := map[string]any{
		"iss": "https://securetoken.google.com/" + project, "aud": project,
		"sub": uid, "user_id": uid, "iat": now, "exp": now + 3600, "auth_time": now,
		"firebase": map[string]any{"sign_in_provider": "password"},
	}
	for k, v := range claims {
		c[k] = v
	}
	hdr, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	pl, _ := json.Marshal(c)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(hdr) + "." + enc.EncodeToString(pl) + "."
}

// TriggerListener returns a listener on the port the Firestore emulator
// delivers trigger events to. One test at a time, across all test
// processes, may hold it: the call blocks until the port is free, and the
// port is released when the test ends.
func TriggerListener(t testing.TB) net.Listener {
	t.Helper()
	dir := StateDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockFile(filepath.Join(dir, "trigger-port.lock"))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	var l net.Listener
	for i := 0; i < 50; i++ {
		l, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(TriggerPort))
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		unlock()
		t.Fatalf("testenv: trigger port: %v", err)
	}
	t.Cleanup(func() { l.Close(); unlock() })
	return l
}

// DocName returns the full resource name of a document path in project.
func DocName(project, path string) string {
	return "projects/" + project + "/databases/(default)/documents/" + strings.TrimPrefix(path, "/")
}
