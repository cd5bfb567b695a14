package functions

import (
	"regexp"
	"testing"

	"github.com/innerjourney/functions/shared/config"
)

var nameRE = regexp.MustCompile(`^[a-z][A-Za-z0-9]{2,62}$`)

func TestRegistry(t *testing.T) {
	secrets := map[string]bool{}
	for _, v := range config.Vars {
		if v.Secret {
			secrets[v.Name] = true
		}
	}
	fns := Registry()
	if len(fns) == 0 {
		t.Fatal("no functions registered")
	}
	seen := map[string]bool{}
	for _, f := range fns {
		if seen[f.Name] {
			t.Errorf("%s registered twice", f.Name)
		}
		seen[f.Name] = true
		if !nameRE.MatchString(f.Name) {
			t.Errorf("%q is not a valid function name", f.Name)
		}
		if f.Doc == "" {
			t.Errorf("%s: no Doc", f.Name)
		}
		switch f.Trigger {
		case HTTP, Callable:
			if f.HTTP == nil || f.Event != nil {
				t.Errorf("%s: %s function needs exactly an HTTP handler", f.Name, f.Trigger)
			}
		case Firestore:
			if f.Event == nil || f.HTTP != nil || f.Document == "" {
				t.Errorf("%s: Firestore function needs an Event handler and a Document pattern", f.Name)
			}
			switch f.EventType {
			case DocumentWritten, DocumentCreated, DocumentUpdated, DocumentDeleted:
			default:
				t.Errorf("%s: bad event type %q", f.Name, f.EventType)
			}
		case PubSub:
			if f.Event == nil || f.HTTP != nil || f.Topic == "" {
				t.Errorf("%s: Pub/Sub function needs an Event handler and a Topic", f.Name)
			}
		default:
			t.Errorf("%s: unknown trigger %q", f.Name, f.Trigger)
		}
		if f.Schedule != "" && f.Trigger != PubSub {
			t.Errorf("%s: a schedule needs a Pub/Sub trigger", f.Name)
		}
		for _, s := range f.Secrets {
			if !secrets[s] {
				t.Errorf("%s: secret %s is not a secret in config.Vars", f.Name, s)
			}
		}
	}
}
