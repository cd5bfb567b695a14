package wellbeing

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"cloud.google.com/go/firestore"

	"github.com/innerjourney/functions/shared/model"
)

//go:embed resources.json
var resourcesJSON []byte

// Directory is the dated configuration of crisis lines per locale and the
// text of the support notification. The embedded one is DefaultDirectory.
type Directory struct {
	// Version changes whenever an entry changes.
	Version string `json:"version"`
	// Fallback is the locale id used when no other matches ("intl").
	Fallback string   `json:"fallback"`
	Notes    []string `json:"notes,omitempty"`
	// Locales are the documents crisis_resources/{id}.
	Locales map[string]model.CrisisResources `json:"locales"`
	// Regions maps an upper-case ISO 3166 region (from the user's BCP 47
	// locale) to a locale id.
	Regions map[string]string `json:"regions"`
	// Languages maps a lower-case language without region to a locale id.
	Languages map[string]string `json:"languages"`
	// Notification holds the title and body of the support notification
	// per language ("en" is required).
	Notification map[string]NotificationText `json:"notification"`
}

// NotificationText is a notification's title and body in one language.
type NotificationText struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// ParseDirectory reads a directory in the format of resources.json and
// checks it: a fallback locale that exists, every locale with a validFrom
// date and at least one resource with a phone or URL, region and language
// maps that name existing locales, and an "en" notification. Errors are
// plain (a configuration defect), wrapped "wellbeing directory".
func ParseDirectory(data []byte) (*Directory, error) {
	var d Directory
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("wellbeing directory: %w", err)
	}
	if _, ok := d.Locales[d.Fallback]; !ok {
		return nil, fmt.Errorf("wellbeing directory: fallback %q is not a locale", d.Fallback)
	}
	for id, l := range d.Locales {
		if l.Locale != id || !model.ValidDate(l.ValidFrom) || len(l.Resources) == 0 {
			return nil, fmt.Errorf("wellbeing directory: locale %q needs its id, a validFrom date and resources", id)
		}
		for _, r := range l.Resources {
			if r.Name == "" || (r.Phone == "" && r.URL == "") {
				return nil, fmt.Errorf("wellbeing directory: locale %q has a resource without a name, phone or url", id)
			}
		}
	}
	for k, v := range d.Regions {
		if _, ok := d.Locales[v]; !ok {
			return nil, fmt.Errorf("wellbeing directory: region %q names unknown locale %q", k, v)
		}
	}
	for k, v := range d.Languages {
		if _, ok := d.Locales[v]; !ok {
			return nil, fmt.Errorf("wellbeing directory: language %q names unknown locale %q", k, v)
		}
	}
	if n, ok := d.Notification["en"]; !ok || n.Title == "" || n.Body == "" {
		return nil, fmt.Errorf("wellbeing directory: the \"en\" notification text is required")
	}
	return &d, nil
}

var defaultDirectory = sync.OnceValue(func() *Directory {
	d, err := ParseDirectory(resourcesJSON)
	if err != nil {
		panic(err) // the embedded file is checked by the package's tests
	}
	return d
})

// DefaultDirectory returns the embedded directory (resources.json).
func DefaultDirectory() *Directory { return defaultDirectory() }

// Resolve returns the id of the crisis_resources document for a user's
// BCP 47 locale ("sv-SE", "en_GB", "sv"): by region first (help lines are
// national: an English speaker in Sweden gets the Swedish lines); a region
// without a list of its own gets the fallback, never another country's
// lines (sv-FI: Swedish numbers do not connect from Finland); only a
// locale without a region goes by its language; else the fallback.
func (d *Directory) Resolve(locale string) string {
	parts := strings.FieldsFunc(locale, func(r rune) bool { return r == '-' || r == '_' })
	for _, p := range parts[min(1, len(parts)):] {
		if len(p) == 1 {
			break // an extension or private-use part: no region follows
		}
		if len(p) == 2 {
			if id, ok := d.Regions[strings.ToUpper(p)]; ok {
				return id
			}
			return d.Fallback
		}
		if len(p) == 3 && strings.Trim(p, "0123456789") == "" {
			return d.Fallback // a UN M.49 area (es-419: Latin America) has no national lines
		}
	}
	if len(parts) > 0 {
		if id, ok := d.Languages[strings.ToLower(parts[0])]; ok {
			return id
		}
	}
	return d.Fallback
}

// Text returns the notification text for a locale's language, English when
// there is none.
func (d *Directory) Text(locale string) NotificationText {
	parts := strings.FieldsFunc(locale, func(r rune) bool { return r == '-' || r == '_' })
	if len(parts) > 0 {
		if t, ok := d.Notification[strings.ToLower(parts[0])]; ok {
			return t
		}
	}
	return d.Notification["en"]
}

// IDs returns the locale ids, sorted.
func (d *Directory) IDs() []string {
	ids := make([]string, 0, len(d.Locales))
	for id := range d.Locales {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Ensure writes every crisis_resources/{id} document of the directory
// (idempotent; deploy and the local seed may call it so the app can show
// the lines before any protocol run). Errors are Firestore errors,
// classified by the caller.
func (d *Directory) Ensure(ctx context.Context, c *firestore.Client) error {
	for _, id := range d.IDs() {
		if _, err := c.Collection(model.ColCrisisResources).Doc(id).Set(ctx, d.Locales[id]); err != nil {
			return fmt.Errorf("ensure crisis_resources/%s: %w", id, err)
		}
	}
	return nil
}
