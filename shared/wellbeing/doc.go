// Package wellbeing is the server's safety protocol: what happens when
// screening sets suicideRisk (functions/profile) or reflection analysis
// detects crisis language (functions/reflection). It never depends on an
// LLM and never copies answer or journal text.
//
// The protocol, once per episode:
//
//  1. Raise (in the caller's transaction, or its own) appends
//     wellbeing_events/{id}, where id is derived from the user, the source,
//     Signal.SourceKey and the episode number (EpisodeEventID), so a
//     duplicated or replayed source event never creates a second record
//     while its episode is open, and a replayed reflection never creates
//     one at all (see Episodes). The record holds the trigger (instrument,
//     item values, rule ids, rule version), never text: a trigger value
//     that is not id-like is redacted (SanitizeTrigger), never a reason to
//     drop the signal. Its episodeId ("ep_<time>_<hash>") holds no uid.
//  2. In the same transaction it writes the user a neutral notification
//     users/{uid}/notifications/{eventId} (kind "wellbeing_support"; the
//     title shown on lock screens has no sensitive words) whose ref points at
//     crisis_resources/{locale}, and (re)writes that document from the
//     embedded, dated configuration (resources.json).
//  3. A Firestore trigger on the new record (PublishAlert, the outbox) publishes
//     {eventId, userId, source} to the Pub/Sub topic Topic and stamps
//     publishedAt; the Pub/Sub worker (Deliverer.Deliver) POSTs an ids-only
//     message to the on-call webhook (IJ_ONCALL_WEBHOOK_URL) and stamps
//     notifiedAt (and its query mirror notified); without a webhook it logs
//     at CRITICAL severity and records deliveredTo "log". A delivery lease
//     (deliveryClaimedAt) keeps deliveries of one event from running at
//     once; an event recorded as delivered is never sent again.
//  4. The backstop (Sweeper, every 5 minutes): Pub/Sub keeps a message
//     about a day and a publish can be lost, so events not delivered
//     (notified == false), not acknowledged and older than a grace period
//     are delivered directly by the same Deliverer under the same lease;
//     alerts still undelivered after an hour are logged at CRITICAL on
//     every sweep (alert=wellbeing_undelivered).
//  5. An admin acknowledges the event (Acknowledge): ackedAt, ackedBy.
//
// Episodes. A user's episode opens with a raised event and stays open until
// it is acknowledged or EpisodeWindow (24 h) has passed since it opened,
// whichever comes first. Signals during an open episode, from any source,
// are folded into it (counted in users/{uid}/private/wellbeing) and raise no
// new record, notification or alert. A signal after acknowledgment, or
// after the window, opens a new episode: a human has seen the first one,
// or has not seen it for a day and must be told again. For screening that
// holds even for the very signal that opened an earlier one (the same
// answers given again weeks later: a new answer by the user). A
// reflection signal whose source key was raised before, in any episode,
// as its opener or folded into it, is a Duplicate instead: the key is the
// entry id and its exact content hash, so it is the same text replayed
// (a late redelivered event, say after a consent revocation removed the
// stored analysis that guards the handler), never a new statement. The
// reflection keys are remembered across episodes in the state document
// (the newest 200).
//
// Only the server writes wellbeing_events, crisis_resources, notifications
// and users/{uid}/private (the security rules deny clients).
package wellbeing
