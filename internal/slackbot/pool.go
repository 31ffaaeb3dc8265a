package slackbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// errBusy is returned by submit when the queue is full: the ack then tells
// the user to try again instead of waiting on Slack's 3-second clock.
var errBusy = errors.New("slackbot: work queue full")

// errStopped is returned by submit after shutdown began.
var errStopped = errors.New("slackbot: shutting down")

type job struct {
	name string
	run  func(ctx context.Context)
}

// pool runs the work that follows an acknowledgement on a fixed number of
// goroutines, each job under its own timeout and a context that is not the
// Slack request's (that one ends with the ack).
type pool struct {
	workers int
	timeout time.Duration
	log     *slog.Logger

	mu      sync.RWMutex // guards closed and sends on queue
	closed  bool
	queue   chan job
	wg      sync.WaitGroup
	started sync.Once
	// busy counts jobs queued or running.
	busy atomic.Int64
}

// idle reports whether no job is queued or running.
func (p *pool) idle() bool { return p.busy.Load() == 0 }

func newPool(workers, size int, timeout time.Duration, log *slog.Logger) *pool {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &pool{workers: workers, timeout: timeout, log: log, queue: make(chan job, size)}
}

func (p *pool) start(ctx context.Context) {
	p.started.Do(func() {
		for range p.workers {
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				for j := range p.queue {
					p.run(ctx, j)
				}
			}()
		}
	})
}

func (p *pool) run(ctx context.Context, j job) {
	defer p.busy.Add(-1)
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("slackbot: job panicked", "job", j.name, "panic", fmt.Sprint(r))
		}
	}()
	j.run(ctx)
}

// submit queues a job without blocking.
func (p *pool) submit(name string, run func(ctx context.Context)) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return errStopped
	}
	p.busy.Add(1)
	select {
	case p.queue <- job{name: name, run: run}:
		return nil
	default:
		p.busy.Add(-1)
		return errBusy
	}
}

// shutdown refuses new jobs and waits for the queued and running ones.
func (p *pool) shutdown(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.queue)
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("slackbot: jobs still running at shutdown: %w", ctx.Err())
	}
}
