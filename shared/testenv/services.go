// Package testenv is the emulator harness of the test suite.
//
// Tests that touch Firestore, Pub/Sub, Firebase Auth or Stripe run against
// the real local emulators: the Cloud Firestore and Pub/Sub emulators of
// the installed Google Cloud CLI, the Auth emulator of firebase-tools and
// stripe-mock. The harness starts each one the first time a test needs it
// and leaves it running for the other test packages (each `go test`
// package is its own process); scripts/test.sh stops them at the end.
// Starting is serialised across processes with a file lock.
//
// A missing or broken emulator fails the test: nothing is ever skipped.
//
// Ports (override the host with the usual variables to use a running
// emulator): Firestore 127.0.0.1:18080 (FIRESTORE_EMULATOR_HOST), trigger
// delivery to 127.0.0.1:18081, Pub/Sub 127.0.0.1:18085
// (PUBSUB_EMULATOR_HOST), Auth 127.0.0.1:19099
// (FIREBASE_AUTH_EMULATOR_HOST), stripe-mock 127.0.0.1:22111.
package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Ports of the test emulators (distinct from scripts/dev.sh's).
const (
	FirestorePort  = 18080
	TriggerPort    = 18081
	PubSubPort     = 18085
	AuthPort       = 19099
	AuthHubPort    = 14400
	StripeMockPort = 22111
)

// service describes one emulator the harness can start.
type service struct {
	name    string
	envHost string // variable naming an already running instance
	port    int
	ready   func(host string) bool
	command func(dir string) (*exec.Cmd, error)
}

// StateDir is where the harness keeps locks, pid files and emulator logs:
// $IJ_TESTENV_DIR, or /tmp/ij-testenv.
func StateDir() string {
	if d := os.Getenv("IJ_TESTENV_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "ij-testenv")
}

var (
	startedMu sync.Mutex
	started   = map[string]string{} // service name → host, per process
)

// ensure returns the host:port of a running s, starting it when needed.
func ensure(t testing.TB, s service) string {
	t.Helper()
	startedMu.Lock()
	defer startedMu.Unlock()
	if h, ok := started[s.name]; ok {
		return h
	}
	host, err := start(s)
	if err != nil {
		t.Fatalf("testenv: %s emulator: %v", s.name, err)
	}
	started[s.name] = host
	return host
}

func start(s service) (string, error) {
	if s.envHost != "" {
		if h := os.Getenv(s.envHost); h != "" {
			if !waitReady(s, h, 30*time.Second) {
				return "", fmt.Errorf("%s=%s is set but nothing answers there", s.envHost, h)
			}
			return h, nil
		}
	}
	host := "127.0.0.1:" + strconv.Itoa(s.port)
	dir := StateDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(dir, s.name+".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if s.ready(host) {
		return host, nil
	}
	cmd, err := s.command(dir)
	if err != nil {
		return "", err
	}
	logPath := filepath.Join(dir, s.name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives this test process
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	_ = os.WriteFile(filepath.Join(dir, s.name+".pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if s.ready(host) {
			return host, nil
		}
		select {
		case err := <-exited:
			return "", fmt.Errorf("exited before ready (%v); log %s:\n%s", err, logPath, tail(logPath))
		case <-time.After(250 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("not ready after 90 s; log %s:\n%s", logPath, tail(logPath))
}

func waitReady(s service, host string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if s.ready(host) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lockFile takes an exclusive flock on path, blocking; the returned func
// releases it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

var probeClient = &http.Client{Timeout: 2 * time.Second}

// httpOK reports whether GET url answers 200 with a body containing want.
func httpOK(url, want string) bool {
	resp, err := probeClient.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode == 200 && bytes.Contains(b, []byte(want))
}

func tcpOpen(host string) bool {
	c, err := net.DialTimeout("tcp", host, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// SDKRoot returns the Google Cloud CLI installation directory.
func SDKRoot() (string, error) {
	if d := os.Getenv("CLOUDSDK_ROOT_DIR"); d != "" {
		return d, nil
	}
	for _, d := range []string{"/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/opt/google-cloud-sdk"} {
		if _, err := os.Stat(filepath.Join(d, "platform")); err == nil {
			return d, nil
		}
	}
	out, err := exec.Command("gcloud", "info", "--format=value(installation.sdk_root)").Output()
	if err != nil {
		return "", errors.New("the Google Cloud CLI is not installed (run scripts/install.sh)")
	}
	return strings.TrimSpace(string(out)), nil
}

// RepoRoot returns the repository root (the directory holding go.mod).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

var firestoreService = service{
	name:    "firestore",
	envHost: "FIRESTORE_EMULATOR_HOST",
	port:    FirestorePort,
	ready:   func(h string) bool { return httpOK("http://"+h+"/", "Ok") },
	command: func(dir string) (*exec.Cmd, error) {
		root, err := SDKRoot()
		if err != nil {
			return nil, err
		}
		bin := filepath.Join(root, "platform", "cloud-firestore-emulator", "cloud_firestore_emulator")
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("%s missing: install the cloud-firestore-emulator component (scripts/install.sh)", bin)
		}
		return exec.Command(bin, "start", "--host=127.0.0.1", "--port="+strconv.Itoa(FirestorePort),
			"--functions_emulator=127.0.0.1:"+strconv.Itoa(TriggerPort)), nil
	},
}

var pubsubService = service{
	name:    "pubsub",
	envHost: "PUBSUB_EMULATOR_HOST",
	port:    PubSubPort,
	ready:   func(h string) bool { return httpOK("http://"+h+"/", "Ok") },
	command: func(dir string) (*exec.Cmd, error) {
		root, err := SDKRoot()
		if err != nil {
			return nil, err
		}
		bin := filepath.Join(root, "platform", "pubsub-emulator", "bin", "cloud-pubsub-emulator")
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("%s missing: install the pubsub-emulator component (scripts/install.sh)", bin)
		}
		return exec.Command(bin, "--host=127.0.0.1", "--port="+strconv.Itoa(PubSubPort)), nil
	},
}

var authService = service{
	name:    "auth",
	envHost: "FIREBASE_AUTH_EMULATOR_HOST",
	port:    AuthPort,
	ready:   func(h string) bool { return httpOK("http://"+h+"/", "authEmulator") },
	command: func(dir string) (*exec.Cmd, error) {
		root, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		bin := filepath.Join(root, ".tools", "node_modules", ".bin", "firebase")
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("%s missing: run scripts/install.sh (npm firebase-tools)", bin)
		}
		cfgDir := filepath.Join(dir, "auth-config")
		if err := os.MkdirAll(cfgDir, 0o755); err != nil {
			return nil, err
		}
		cfg := fmt.Sprintf(`{"emulators":{"auth":{"host":"127.0.0.1","port":%d},"hub":{"host":"127.0.0.1","port":%d},"logging":{"host":"127.0.0.1","port":%d},"ui":{"enabled":false},"singleProjectMode":false}}`,
			AuthPort, AuthHubPort, AuthHubPort+100)
		if err := os.WriteFile(filepath.Join(cfgDir, "firebase.json"), []byte(cfg), 0o644); err != nil {
			return nil, err
		}
		cmd := exec.Command(bin, "emulators:start", "--only", "auth", "--project", AuthProject, "--config", filepath.Join(cfgDir, "firebase.json"))
		cmd.Dir = cfgDir
		cmd.Env = append(os.Environ(), "CI=1", "FIREBASE_CLI_DISABLE_UPDATE_CHECK=true")
		return cmd, nil
	},
}

// AuthProject is the project id the Auth emulator is started with.
const AuthProject = "demo-ij-test"

var stripeService = service{
	name:    "stripe-mock",
	envHost: "STRIPE_MOCK_HOST",
	port:    StripeMockPort,
	ready:   tcpOpen,
	command: func(dir string) (*exec.Cmd, error) {
		bin, err := exec.LookPath("stripe-mock")
		if err != nil {
			gobin := filepath.Join(os.Getenv("HOME"), "go", "bin", "stripe-mock")
			if p := os.Getenv("GOBIN"); p != "" {
				gobin = filepath.Join(p, "stripe-mock")
			}
			if _, err := os.Stat(gobin); err != nil {
				return nil, errors.New("stripe-mock not installed: run scripts/install.sh")
			}
			bin = gobin
		}
		return exec.Command(bin, "-http-addr", "127.0.0.1:"+strconv.Itoa(StripeMockPort),
			"-https-addr", "127.0.0.1:"+strconv.Itoa(StripeMockPort+1)), nil
	},
}

// StripeMock returns the base URL of stripe-mock, starting it if needed.
func StripeMock(t testing.TB) string {
	t.Helper()
	return "http://" + ensure(t, stripeService)
}

// PubSub returns the host:port of the Pub/Sub emulator, starting it if
// needed, and points PUBSUB_EMULATOR_HOST of this process at it.
func PubSub(t testing.TB) string {
	t.Helper()
	h := ensure(t, pubsubService)
	os.Setenv("PUBSUB_EMULATOR_HOST", h)
	return h
}
