package payouts

import (
	"sort"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/model"
)

// MaxBps is 100 % in basis points.
const MaxBps = 10000

// NetAmount returns what a payment contributes to payouts: its amount less
// refunds (refundDetails.amountRefunded) and a lost dispute's amount,
// clamped to [0, amount]. countable is false for statuses other than
// succeeded, partially_refunded and refunded (nothing to pay out); held is
// true while a dispute is open (the payment waits until it is resolved).
func NetAmount(p *model.Payment) (net int64, countable, held bool) {
	switch p.Status {
	case model.PaymentSucceeded, model.PaymentPartiallyRefunded, model.PaymentRefunded:
	default:
		return 0, false, false
	}
	net = p.Amount
	if p.RefundDetails != nil {
		net -= p.RefundDetails.AmountRefunded
	}
	if d := p.Dispute; d != nil {
		if d.Lost {
			net -= d.Amount
		} else if d.Open {
			held = true
		}
	}
	return min(max(net, 0), max(p.Amount, 0)), true, held
}

// Commission returns bps basis points of net, rounded half up (half away
// from zero for a negative net), in integer arithmetic.
func Commission(net int64, bps int) int64 {
	if net < 0 {
		return -Commission(-net, bps)
	}
	return (net*int64(bps) + MaxBps/2) / MaxBps
}

// VATIncluded returns the VAT contained in a VAT-inclusive amount at rate
// bps (amount × bps / (10000 + bps)), rounded half up (away from zero).
func VATIncluded(amount int64, bps int) int64 {
	if amount < 0 {
		return -VATIncluded(-amount, bps)
	}
	d := int64(MaxBps + bps)
	return (amount*int64(bps) + d/2) / d
}

// Split divides total among the keys of weights in proportion to their
// weights by the largest-remainder method: each gets the floor of its exact
// share, and the öre left over go one each to the largest remainders (ties
// to the smaller key), so the parts sum exactly to total. A negative total
// is split as its absolute value and negated. Keys with weight ≤ 0 get 0.
func Split(total int64, weights map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(weights))
	if total < 0 {
		for k, v := range Split(-total, weights) {
			out[k] = -v
		}
		return out
	}
	var sum int64
	keys := make([]string, 0, len(weights))
	for k, w := range weights {
		out[k] = 0
		if w > 0 {
			sum += w
			keys = append(keys, k)
		}
	}
	if sum == 0 || total == 0 {
		return out
	}
	sort.Strings(keys)
	type rem struct {
		key string
		r   int64
	}
	rems := make([]rem, 0, len(keys))
	var given int64
	for _, k := range keys {
		// total ≤ ~1e14 and weights ≤ 1e4 in practice; 128-bit safety is
		// not needed for amounts Fortnox or Stripe accept.
		q, r := total*weights[k]/sum, total*weights[k]%sum
		out[k] = q
		given += q
		rems = append(rems, rem{k, r})
	}
	sort.SliceStable(rems, func(i, j int) bool { return rems[i].r > rems[j].r })
	for i := int64(0); i < total-given; i++ {
		out[rems[i].key]++
	}
	return out
}

// Weights returns the coaches' split weights of a program: the basis points
// of coachSplits when set, else 1 for each coach of createdBy (an equal
// split). It fails with InvalidArgument when the program has no coach, or
// when coachSplits names someone not in createdBy, has a negative value or
// does not sum to 10000.
func Weights(p *model.Program) (map[string]int64, error) {
	coaches := map[string]bool{}
	for _, c := range p.CreatedBy {
		if c != "" {
			coaches[c] = true
		}
	}
	if len(coaches) == 0 {
		return nil, fault.Invalid("program %s has no coach in createdBy", p.ProgramID)
	}
	w := map[string]int64{}
	if len(p.CoachSplits) == 0 {
		for c := range coaches {
			w[c] = 1
		}
		return w, nil
	}
	sum := 0
	for c, bps := range p.CoachSplits {
		if !coaches[c] {
			return nil, fault.Invalid("program %s: coachSplits names a coach not in createdBy", p.ProgramID)
		}
		if bps < 0 || bps > MaxBps {
			return nil, fault.Invalid("program %s: coachSplits values must be 0–10000", p.ProgramID)
		}
		sum += bps
		if bps > 0 {
			w[c] = int64(bps)
		}
	}
	if sum != MaxBps {
		return nil, fault.Invalid("program %s: coachSplits sum to %d, not 10000", p.ProgramID, sum)
	}
	return w, nil
}

// CommissionBps returns the program's commission (commissionBps when set)
// or def. It fails with InvalidArgument when the override is outside 0–10000.
func CommissionBps(p *model.Program, def int) (int, error) {
	if p.CommissionBps == nil {
		return def, nil
	}
	if b := *p.CommissionBps; b < 0 || b > MaxBps {
		return 0, fault.Invalid("program %s: commissionBps must be 0–10000", p.ProgramID)
	} else {
		return b, nil
	}
}

// share is one coach's part of a net amount.
type share struct{ gross, commission, amount int64 }

// shares splits net among the weights: the net (gross) and the coaches'
// pool (net − commission) are each split by largest remainder, and each
// coach's commission is the difference, so every column sums exactly and no
// coach's amount is negative for a non-negative net.
func shares(net int64, bps int, weights map[string]int64) map[string]share {
	pool := net - Commission(net, bps)
	g, a := Split(net, weights), Split(pool, weights)
	out := make(map[string]share, len(weights))
	for c := range weights {
		out[c] = share{gross: g[c], commission: g[c] - a[c], amount: a[c]}
	}
	return out
}
