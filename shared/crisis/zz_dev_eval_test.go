package crisis

// TEMPORARY development harness (helper); removed before hand-back.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestZZDevEval(t *testing.T) {
	dir := os.Getenv("CRISIS_DEV_DIR")
	if dir == "" {
		t.Skip()
	}
	verbose := os.Getenv("CRISIS_DEV_V")
	only := os.Getenv("CRISIS_DEV_LAYER") // "", "concept", "rules"
	d := New()
	for _, name := range strings.Split(os.Getenv("CRISIS_DEV_SETS"), ",") {
		f, err := os.Open(dir + "/crisis_" + name + ".jsonl")
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		var tp, fn, fp, tn int
		for sc.Scan() {
			var it struct {
				Text   string
				Crisis bool
				Lang   string
				Kind   string
			}
			json.Unmarshal(sc.Bytes(), &it)
			r := d.Detect(it.Text)
			got := r.Crisis
			if only != "" {
				got = false
				for _, id := range r.Rules {
					isC := strings.Contains(id, ".concept.")
					if (only == "concept") == isC {
						got = true
					}
				}
			}
			switch {
			case it.Crisis && got:
				tp++
			case it.Crisis:
				fn++
				if strings.Contains(verbose, "fn") {
					fmt.Printf("FN %s [%s/%s] %s\n", name, it.Lang, it.Kind, it.Text)
				}
			case got:
				fp++
				if strings.Contains(verbose, "fp") {
					fmt.Printf("FP %s [%s/%s] %v %s\n", name, it.Lang, it.Kind, r.Rules, it.Text)
				}
			default:
				tn++
			}
		}
		f.Close()
		fmt.Printf("%-12s recall %5.1f%% (%d/%d)  FPR %5.1f%% (%d/%d)\n", name,
			100*float64(tp)/float64(tp+fn), tp, tp+fn, 100*float64(fp)/float64(fp+tn), fp, fp+tn)
	}
}
