package js

// RepairWorks reports whether repairIdle knows this goja's layout.
func RepairWorks() bool {
	_, ok := gojaLayout()
	return ok
}
