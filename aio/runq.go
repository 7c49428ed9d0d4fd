package aio

// taskQueue is the loop's FIFO of ready tasks: a ring buffer that grows.
type taskQueue struct {
	buf  []*Task
	head int
	n    int
}

func (q *taskQueue) len() int { return q.n }

func (q *taskQueue) push(t *Task) {
	if q.n == len(q.buf) {
		buf := make([]*Task, max(16, 2*len(q.buf)))
		for i := range q.n {
			buf[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = buf, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = t
	q.n++
}

func (q *taskQueue) pop() *Task {
	t := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return t
}
