package model

func init() {
	allTypes = append(allTypes, FortnoxBooking{}, PayoutAllocation{}, AllocationEvent{}, AllocationEntry{}, CoachPayoutState{})
}
