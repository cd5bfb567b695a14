package gdpr

import (
	"context"
	"sort"

	"cloud.google.com/go/firestore"
	pb "cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/protobuf/proto"

	"github.com/innerjourney/functions/shared/fault"
	"github.com/innerjourney/functions/shared/store"
)

// The users/{uid} subtree is read with "descendant" queries: for each
// subcollection id, one query over every collection of that id at any depth
// below the document (a collection-group query scoped to a parent; the
// Go client builds it from a RunQueryRequest with allDescendants). This
// costs one query per collection id instead of one ListCollectionIds call
// per document.

// descendants returns the query over every collection named id at any
// depth below doc.
func descendants(doc *firestore.DocumentRef, id string) (firestore.Query, error) {
	base := doc.Collection(id).Query
	b, err := base.Serialize()
	if err != nil {
		return firestore.Query{}, fault.Wrap(err, fault.Internal, "gdpr: descendants query")
	}
	var req pb.RunQueryRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		return firestore.Query{}, fault.Wrap(err, fault.Internal, "gdpr: descendants query")
	}
	req.GetStructuredQuery().From = []*pb.StructuredQuery_CollectionSelector{{CollectionId: id, AllDescendants: true}}
	if b, err = proto.Marshal(&req); err != nil {
		return firestore.Query{}, fault.Wrap(err, fault.Internal, "gdpr: descendants query")
	}
	q, err := base.Deserialize(b)
	if err != nil {
		return firestore.Query{}, fault.Wrap(err, fault.Internal, "gdpr: descendants query")
	}
	return q, nil
}

// subtreeIDs returns the collection ids to query below doc: its direct
// subcollections and every subcollection the policy table knows (which
// may sit deeper).
func subtreeIDs(ctx context.Context, doc *firestore.DocumentRef) ([]string, error) {
	cols, err := doc.Collections(ctx).GetAll()
	if err != nil {
		return nil, store.Classify("gdpr: list collections", err)
	}
	set := map[string]bool{}
	for _, c := range cols {
		set[c.ID] = true
	}
	for _, p := range Policies {
		if p.Parent != "" {
			set[p.Collection] = true
		}
	}
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}
