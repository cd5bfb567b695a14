package functions

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/innerjourney/functions/shared/config"
)

// TestREADMEIsComplete checks that the README documents every environment
// variable, every registered function and every collection of the model.
func TestREADMEIsComplete(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, v := range config.Vars {
		if !strings.Contains(readme, "`"+v.Name+"`") {
			t.Errorf("README lacks the variable %s (run: go run ./scripts/ops env --markdown)", v.Name)
		}
	}
	for _, f := range Registry() {
		if !strings.Contains(readme, "`"+f.Name+"`") {
			t.Errorf("README lacks the function %s", f.Name)
		}
	}
	src, err := os.ReadFile("shared/model/doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:Col|SubCol)\w+\s+=\s+"([a-z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		if !strings.Contains(readme, "`"+m[1]+"`") {
			t.Errorf("README's data model lacks the collection %s", m[1])
		}
	}
}
