// Package gdpr serves the data subject's rights over everything Inner
// Journey holds about them: access and portability (a versioned JSON
// archive, GDPR Art. 15 and 20), erasure (Art. 17) with the records that
// bookkeeping law requires kept under a pseudonymised legal hold, and the
// retention clean-up of temporary data.
//
// Every collection of shared/model has exactly one entry in Policies, the
// per-collection policy table: how the subject's documents are found
// (the document id, or one indexed single-field query — never a scan or a
// substring match), what erasure does with them, and what the export
// includes. A test fails when a collection constant has no entry.
//
// Requests live in gdpr_requests/{id} (model.GDPRRequest) and move
// pending → running → verifying → done | failed. The worker (Pub/Sub topic
// TopicRequests) holds a lease on the request while it runs, writes a
// checkpoint after every phase and page, and resumes from it after a crash;
// duplicate messages find the lease and do nothing. At the end of an
// erasure every finder runs again and the remaining counts are stored as
// the proof, and an audit record keyed by the subject's pseudonym is
// written. The sweeper re-publishes stuck requests, warns about requests
// close to their due date and reconciles users documents whose Auth account
// no longer exists.
package gdpr
