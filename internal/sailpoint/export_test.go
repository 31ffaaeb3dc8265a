package sailpoint

// Waiting is how many reads are waiting for an answer in flight (their own
// or one they joined).
func (rc *ReadCache) Waiting() int { return int(rc.waiting.Load()) }
