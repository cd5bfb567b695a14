package gdpr

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"firebase.google.com/go/v4/auth"

	"github.com/innerjourney/functions/shared/events"
	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/indexes"
	"github.com/innerjourney/functions/shared/model"
	"github.com/innerjourney/functions/shared/store"
)

// SweepReport is what one sweep did.
type SweepReport struct {
	Open        int             `json:"open"`
	Republished int             `json:"republished"`
	DueSoon     int             `json:"dueSoon"`
	Overdue     int             `json:"overdue"`
	Reconcile   ReconcileReport `json:"reconcile"`
}

// ReconcileReport is what one reconciliation page did.
type ReconcileReport struct {
	Pages    int    `json:"pages"`
	Checked  int    `json:"checked"`
	Missing  int    `json:"missing"`
	Started  int    `json:"started"`
	Held     bool   `json:"held,omitempty"`
	Cursor   string `json:"cursor"`
	Disabled bool   `json:"disabled,omitempty"`
}

// GDPRSweeper is the hourly sweeper (TopicSweeper).
func (s *Service) GDPRSweeper(ctx context.Context, _ *events.PubSubMessage) error {
	rep, err := s.Sweep(ctx)
	slog.InfoContext(ctx, "gdpr sweep", "open", rep.Open, "republished", rep.Republished, "dueSoon", rep.DueSoon,
		"overdue", rep.Overdue, "reconcileChecked", rep.Reconcile.Checked, "reconcileStarted", rep.Reconcile.Started)
	return err
}

// Sweep re-publishes open requests that nobody works on (no live lease,
// untouched for StuckAfter), warns (at most daily per request) about open
// requests within DueWarning of dueAt — an ERROR when overdue — and runs
// one page of Reconcile.
func (s *Service) Sweep(ctx context.Context) (SweepReport, error) {
	var rep SweepReport
	q, err := indexes.MustLookup(indexes.QGDPROpen).Build(s.Firestore, []any{StatusPending, StatusRunning, StatusVerifying})
	if err != nil {
		return rep, fault.Wrap(err, fault.Internal, "gdpr: sweep query")
	}
	docs, err := q.Documents(ctx).GetAll()
	if err != nil {
		return rep, store.Classify("gdpr: sweep", err)
	}
	now := s.now()
	for _, d := range docs {
		var r model.GDPRRequest
		if err := d.DataTo(&r); err != nil {
			continue
		}
		rep.Open++
		live := r.LeaseOwner != "" && r.LeaseUntil != nil && r.LeaseUntil.After(now)
		if !live && now.Sub(r.UpdatedAt) >= StuckAfter {
			if err := s.publish(ctx, r.RequestID); err != nil {
				return rep, err
			}
			rep.Republished++
		}
		left := r.DueAt.Sub(now)
		if left > DueWarning {
			continue
		}
		if left <= 0 {
			rep.Overdue++
		} else {
			rep.DueSoon++
		}
		if r.DueWarnedAt != nil && now.Sub(*r.DueWarnedAt) < 24*time.Hour {
			continue
		}
		attrs := []any{"alert", "gdpr_request_due", "requestId", r.RequestID, "kind", r.Kind, "status", r.Status,
			"dueAt", r.DueAt, "hoursLeft", int(left.Hours())}
		if left <= 0 {
			slog.ErrorContext(ctx, "GDPR request overdue (Art. 12(3))", attrs...)
		} else {
			slog.WarnContext(ctx, "GDPR request close to its due date", attrs...)
		}
		if _, err := d.Ref.Update(ctx, []firestore.Update{{Path: "dueWarnedAt", Value: now}}); err != nil {
			return rep, store.Classify("gdpr: sweep", err)
		}
	}
	rr, err := s.Reconcile(ctx)
	rep.Reconcile = rr
	return rep, err
}

const reconcileJob = "gdprReconcile"

// Reconcile checks users documents (by document id after the saved
// cursor, pages of ReconcileBatch, up to ReconcilePages pages a run, so a
// million users are all checked within about four days) against Firebase
// Auth and starts the erasure of those whose account no longer exists (at
// most ReconcileMaxErasures a run). When most of a sizeable page is
// missing it starts nothing, stops and raises an alert instead: that is a
// misconfiguration (the wrong Auth project, an emulator without accounts),
// not mass deletion. The cursor is saved after each page, so a run cut
// short goes on where it stopped; at the end of the collection the next
// run starts again from the first user.
func (s *Service) Reconcile(ctx context.Context) (ReconcileReport, error) {
	var rep ReconcileReport
	if s.Auth == nil {
		rep.Disabled = true
		return rep, nil
	}
	job := s.Firestore.Collection(model.ColJobs).Doc(reconcileJob)
	cursor := ""
	if snap, err := job.Get(ctx); err == nil {
		if v, _ := snap.DataAt("checkpoint.cursor"); v != nil {
			cursor, _ = v.(string)
		}
	} else if !store.IsNotFound(err) {
		return rep, store.Classify("gdpr: reconcile", err)
	}
	rep.Cursor = cursor
	for page := 0; page < ReconcilePages; page++ {
		next, full, err := s.reconcilePage(ctx, cursor, &rep)
		if err != nil || rep.Held {
			return rep, err
		}
		rep.Pages++
		rep.Cursor = next
		if _, err := job.Set(ctx, model.Job{Name: reconcileJob, Checkpoint: map[string]any{"cursor": next}, UpdatedAt: s.now()}); err != nil {
			return rep, store.Classify("gdpr: reconcile", err)
		}
		if !full || next == "" || rep.Started == ReconcileMaxErasures {
			return rep, nil // the end of the users (the next run starts over), or the erasures' bound
		}
		cursor = next
	}
	return rep, nil
}

// reconcilePage checks the page of users after cursor, adding to rep, and
// returns where the next page starts ("" after the last page) and whether
// the page was full. A held page (rep.Held) changes nothing.
func (s *Service) reconcilePage(ctx context.Context, cursor string, rep *ReconcileReport) (next string, full bool, err error) {
	q := s.Firestore.Collection(model.ColUsers).OrderBy(firestore.DocumentID, firestore.Asc).Select().Limit(ReconcileBatch)
	if cursor != "" {
		q = q.StartAfter(cursor)
	}
	docs, err := q.Documents(ctx).GetAll()
	if err != nil {
		return "", false, store.Classify("gdpr: reconcile", err)
	}
	now := s.now()
	var ids []string
	for _, d := range docs {
		if now.Sub(d.CreateTime) < time.Hour {
			continue // just signed up: leave the account time to settle
		}
		ids = append(ids, d.Ref.ID)
	}
	missing := map[string]bool{}
	for i := 0; i < len(ids); i += 100 {
		end := min(i+100, len(ids))
		var idents []auth.UserIdentifier
		for _, id := range ids[i:end] {
			idents = append(idents, auth.UIDIdentifier{UID: id})
		}
		res, err := s.Auth.GetUsers(ctx, idents)
		if err != nil {
			return "", false, fault.Wrap(err, fault.Unavailable, "gdpr: auth lookup")
		}
		for _, nf := range res.NotFound {
			if u, ok := nf.(auth.UIDIdentifier); ok {
				missing[u.UID] = true
			}
		}
	}
	rep.Checked += len(ids)
	rep.Missing += len(missing)
	full = len(docs) == ReconcileBatch
	if full {
		next = docs[len(docs)-1].Ref.ID
	}
	if len(missing) >= 10 && len(missing)*2 > len(ids) {
		rep.Held = true
		slog.ErrorContext(ctx, "gdpr reconcile: most users of a page have no Auth account; nothing erased",
			"alert", "gdpr_reconcile_held", "checked", len(ids), "missing", len(missing))
		return cursor, full, nil
	}
	last := cursor
	for _, id := range ids {
		if missing[id] {
			if rep.Started == ReconcileMaxErasures {
				return last, full, nil // resume at this one next time
			}
			_, created, err := s.StartErasure(ctx, id, "system", SourceReconcile, true)
			if err != nil {
				return "", false, err
			}
			if created {
				rep.Started++
			}
		}
		last = id
	}
	return next, full, nil
}

// OnAuthUserDeleted is the backstop for Auth accounts deleted by other
// means than an erasure (the console, the Admin SDK, the user through the
// client SDK): it starts the subject's erasure. The message is either
// {"uid": …} / {"uids": […]} or a Cloud Audit Logs LogEntry of
// identitytoolkit's DeleteAccount / BatchDeleteAccounts routed by a Log
// Router sink. An erasure already done is not repeated (its own account
// deletion comes back here).
func (s *Service) OnAuthUserDeleted(ctx context.Context, msg *events.PubSubMessage) error {
	uids, err := DeletedUIDs(msg.Data)
	if err != nil {
		return err
	}
	for _, uid := range uids {
		if _, _, err := s.StartErasure(ctx, uid, "system", SourceAuthDeleted, false); err != nil {
			return err
		}
	}
	slog.InfoContext(ctx, "auth deletion backstop", "accounts", len(uids), "messageId", msg.ID)
	return nil
}

// logEntry is the part of a Cloud Audit Logs LogEntry the backstop reads.
type logEntry struct {
	UID          string   `json:"uid"`
	UIDs         []string `json:"uids"`
	ProtoPayload *struct {
		MethodName   string `json:"methodName"`
		ResourceName string `json:"resourceName"`
		Status       *struct {
			Code int `json:"code"`
		} `json:"status"`
		Request struct {
			LocalID  string   `json:"localId"`
			LocalIDs []string `json:"localIds"`
		} `json:"request"`
	} `json:"protoPayload"`
}

// DeletedUIDs returns the uids of deleted accounts a backstop message
// names. It returns an INVALID_ARGUMENT error for a message that is
// neither form, and no uids for a failed call or another method.
func DeletedUIDs(data []byte) ([]string, error) {
	var e logEntry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fault.Invalid("auth deletion message is not JSON")
	}
	var out []string
	add := func(ids ...string) {
		for _, id := range ids {
			if model.ValidDocID(id) {
				out = append(out, id)
			}
		}
	}
	switch {
	case e.UID != "" || len(e.UIDs) > 0:
		add(e.UID)
		add(e.UIDs...)
	case e.ProtoPayload != nil:
		p := e.ProtoPayload
		if !strings.HasSuffix(p.MethodName, "DeleteAccount") && !strings.HasSuffix(p.MethodName, "BatchDeleteAccounts") {
			return nil, nil
		}
		if p.Status != nil && p.Status.Code != 0 {
			return nil, nil
		}
		add(p.Request.LocalID)
		add(p.Request.LocalIDs...)
		if len(out) == 0 {
			if i := strings.LastIndex(p.ResourceName, "/accounts/"); i >= 0 {
				add(p.ResourceName[i+len("/accounts/"):])
			}
		}
	default:
		return nil, fault.Invalid("auth deletion message names no account")
	}
	return out, nil
}
