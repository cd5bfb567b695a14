package payments

import (
	"testing"
	"time"

	"github.com/innerjourney/functions/shared/model"
)

// TestMergeProgramCreated: the payment's program version is set once, with
// its programId and only from an object naming that program; an object
// without one leaves it as it is.
func TestMergeProgramCreated(t *testing.T) {
	v1 := time.Date(2026, 1, 5, 8, 0, 0, 123456000, time.UTC)
	v2 := v1.Add(time.Hour)
	tests := []struct {
		name string
		old  *model.Payment
		f    paymentFacts
		want *time.Time
	}{
		{"first event sets it", nil, paymentFacts{programID: "p", programCreated: &v1}, &v1},
		{"no version: none", nil, paymentFacts{programID: "p"}, nil},
		{"a version without a programId is not taken", nil, paymentFacts{programCreated: &v1}, nil},
		{"set once", &model.Payment{ProgramID: ptr("p"), ProgramCreated: &v1}, paymentFacts{programID: "p", programCreated: &v2}, &v1},
		{"kept when an event has none", &model.Payment{ProgramID: ptr("p"), ProgramCreated: &v1}, paymentFacts{}, &v1},
		{"filled in later for the same program", &model.Payment{ProgramID: ptr("p")}, paymentFacts{programID: "p", programCreated: &v2}, &v2},
		{"not from an object naming another program", &model.Payment{ProgramID: ptr("p")}, paymentFacts{programID: "q", programCreated: &v2}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.docID = "pi_m"
			got := mergePayment(tt.old, tt.f, "u1").ProgramCreated
			if !sameVersion(got, tt.want) {
				t.Errorf("programCreated = %v, want %v", got, tt.want)
			}
		})
	}
}
