package aio

// A taskList is an intrusive doubly linked list of tasks: the loop's live
// tasks (through each Task's live link) or a task's children (through their
// sib links). It is loop-owned.
type taskList struct {
	head *Task
	n    int
}

// A taskLink is a task's place in one taskList.
type taskLink struct{ prev, next *Task }

func liveLink(t *Task) *taskLink { return &t.live }
func sibLink(t *Task) *taskLink  { return &t.sib }

// push adds t at the front of the list that link selects.
func (ls *taskList) push(t *Task, link func(*Task) *taskLink) {
	link(t).next = ls.head
	if ls.head != nil {
		link(ls.head).prev = t
	}
	ls.head = t
	ls.n++
}

// remove takes t out of the list that link selects.
func (ls *taskList) remove(t *Task, link func(*Task) *taskLink) {
	tl := link(t)
	if tl.prev != nil {
		link(tl.prev).next = tl.next
	} else {
		ls.head = tl.next
	}
	if tl.next != nil {
		link(tl.next).prev = tl.prev
	}
	*tl = taskLink{}
	ls.n--
}
