// Package relay assembles one running auditrelay from its config: the
// spool, the journal, the ingest server, a delivery loop per output, and
// the health, status and metrics endpoints; and it shuts them down in order.
//
// Start-up: open data_dir/spool (recovering a torn tail), rebuild the dedup
// window from it, register a spool reader per output (an output new to the
// spool starts at its oldest record), start the delivery loops, listen.
// Shutdown (context cancelled, e.g. SIGTERM): every input refuses from then
// on, deliveries run until every queue is empty or shutdown_timeout passes,
// then the listener, the outputs and the spool close. Whatever was not
// delivered stays in the spool for the next start.
package relay

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auditrelay/auditrelay"
	"github.com/auditrelay/auditrelay/conf"
	"github.com/auditrelay/auditrelay/internal/dedup"
	"github.com/auditrelay/auditrelay/internal/delivery"
	"github.com/auditrelay/auditrelay/internal/ingest"
	"github.com/auditrelay/auditrelay/internal/journal"
	"github.com/auditrelay/auditrelay/internal/metrics"
	"github.com/auditrelay/auditrelay/internal/rejected"
	"github.com/auditrelay/auditrelay/internal/spool"
	"github.com/auditrelay/auditrelay/internal/status"
)

// Relay is one running auditrelay.
type Relay struct {
	cfg     *conf.Config
	logger  *slog.Logger
	now     func() time.Time
	spool   *spool.Spool
	journal *journal.Journal
	ids     *journal.IDLog
	status  *status.Registry
	metrics *metrics.Registry
	ingest  *ingest.Server
	outputs []*runningOutput
	pullers map[string]auditrelay.Puller
	ready   atomic.Bool
}

type runningOutput struct {
	cfg    *conf.Output
	output auditrelay.Output
	queue  *spool.Reader
	loop   *delivery.Loop
}

// Open prepares a relay: it opens the spool and builds every input and
// output, but serves nothing until Run.
func Open(cfg *conf.Config, logger *slog.Logger) (*Relay, error) {
	r := &Relay{cfg: cfg, logger: logger, now: time.Now, status: status.New(time.Now), metrics: metrics.New()}
	sp, err := spool.Open(spool.Options{
		Dir:      filepath.Join(cfg.Relay.DataDir, "spool"),
		MaxBytes: int64(cfg.Relay.SpoolMaxBytes),
		Logger:   logger,
	})
	if err != nil {
		return nil, fmt.Errorf("open spool in %s: %w", cfg.Relay.DataDir, err)
	}
	r.spool = sp
	if err := r.build(); err != nil {
		r.closeAll()
		return nil, err
	}
	r.ready.Store(true)
	return r, nil
}

func (r *Relay) build() error {
	window := dedup.New(r.cfg.Relay.DedupMaxEntries, r.cfg.Relay.DedupWindow.D())
	ids, err := journal.OpenIDLog(filepath.Join(r.cfg.Relay.DataDir, "dedup"), r.cfg.Relay.DedupMaxEntries/2)
	if err != nil {
		return err
	}
	r.ids = ids
	r.journal = journal.New(r.spool, window, ids)
	restored, err := r.journal.Rebuild(r.now())
	if err != nil {
		return fmt.Errorf("rebuild dedup window from the spool: %w", err)
	}
	r.logger.Info("spool open", "dir", filepath.Join(r.cfg.Relay.DataDir, "spool"),
		"bytes", r.spool.Size(), "records", r.spool.Depth(), "dedup_ids_restored", restored)
	keeper, err := rejected.Open(filepath.Join(r.cfg.Relay.DataDir, "rejected"), int64(r.cfg.Relay.RejectedMaxBytes), r.logger, r.now)
	if err != nil {
		return err
	}
	if err := r.buildOutputs(); err != nil {
		return err
	}
	if err := r.buildPullers(keeper); err != nil {
		return err
	}
	return r.buildIngest(keeper)
}

// buildPullers builds the inputs that fetch from their source.
func (r *Relay) buildPullers(keeper *rejected.Store) error {
	r.pullers = map[string]auditrelay.Puller{}
	for _, name := range r.cfg.InputNames() {
		ic := r.cfg.Inputs[name]
		if !ic.IsPull() {
			continue
		}
		dir := filepath.Join(r.cfg.Relay.DataDir, "inputs", name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("input %s: %w", name, err)
		}
		st := r.status.PullInput(name)
		p, err := conf.BuildPuller(ic, auditrelay.PullSettings{
			Name: name, Sink: r.journalFor(ic), StateDir: dir, IncludeRaw: ic.IncludeRaw,
			Logger: r.logger.With("input", name), Observe: st.Observe, Count: st.Count, Now: r.now,
			Reject: func(entry []byte, reason string) {
				if err := keeper.Keep(name, entry, reason, 0); err != nil {
					r.logger.Error("could not keep a rejected record", "input", name, "err", err)
				}
			},
		})
		if err != nil {
			return fmt.Errorf("input %s: %w", name, err)
		}
		r.pullers[name] = p
	}
	return nil
}

// journalFor is the sink of a pull input: the journal, with the input's
// severity override applied first.
func (r *Relay) journalFor(ic *conf.Input) auditrelay.EventSink {
	if ic.Severity == nil {
		return r.journal
	}
	return severitySink{sink: r.journal, severity: *ic.Severity}
}

type severitySink struct {
	sink     auditrelay.EventSink
	severity int
}

func (s severitySink) Append(ctx context.Context, events []auditrelay.Event) (int, int, error) {
	for i := range events {
		events[i].Severity = s.severity
	}
	return s.sink.Append(ctx, events)
}

func (r *Relay) buildOutputs() error {
	dl, err := delivery.OpenDeadLetter(filepath.Join(r.cfg.Relay.DataDir, "deadletter"), r.now)
	if err != nil {
		return err
	}
	for _, name := range r.cfg.OutputNames() {
		oc := r.cfg.Outputs[name]
		st := r.status.Output(name)
		st.SetEnabled(oc.Enabled)
		out, err := conf.BuildOutput(oc, r.logger.With("output", name), st.Observe)
		if err != nil {
			return fmt.Errorf("output %s: %w", name, err)
		}
		q, err := r.spool.Reader(name)
		if err != nil {
			out.Close()
			return fmt.Errorf("output %s: %w", name, err)
		}
		ro := &runningOutput{cfg: oc, output: out, queue: q}
		ro.loop = delivery.New(delivery.Options{
			Name: name, Output: out, Queue: q, Takes: oc.Takes,
			BatchMaxEvents: oc.BatchMaxEvents, BatchMaxBytes: int(oc.BatchMaxBytes),
			FlushInterval: oc.FlushInterval.D(), RoundWait: oc.Retry.WaitMax.D(),
			DeadLetter: dl, Status: st, Logger: r.logger,
		})
		r.outputs = append(r.outputs, ro)
	}
	return r.dropStaleReaders()
}

// dropStaleReaders removes the spool cursors of outputs no longer
// configured, so they do not pin the spool's segments forever.
func (r *Relay) dropStaleReaders() error {
	for _, name := range r.spool.Readers() {
		if _, ok := r.cfg.Outputs[name]; ok {
			continue
		}
		r.logger.Warn("output no longer configured: dropping its spool cursor and its undelivered queue", "output", name)
		if err := r.spool.RemoveReader(name); err != nil {
			return fmt.Errorf("drop cursor of removed output %s: %w", name, err)
		}
	}
	return nil
}

func (r *Relay) buildIngest(keeper *rejected.Store) error {
	var inputs []*ingest.Input
	for _, name := range r.cfg.InputNames() {
		ic := r.cfg.Inputs[name]
		if ic.IsPull() {
			continue
		}
		a, err := conf.BuildAdapter(ic)
		if err != nil {
			return fmt.Errorf("input %s: %w", name, err)
		}
		if ic.AllowUnsigned && !ic.Authorization.IsSet() {
			r.logger.Warn("input accepts unsigned requests: anyone who reaches the listener can add audit events", "input", name)
		}
		inputs = append(inputs, &ingest.Input{
			Name: name, Adapter: a, Authorization: ic.Authorization, AllowUnsigned: ic.AllowUnsigned,
			IncludeRaw: ic.IncludeRaw, Severity: ic.Severity, Refusal: ic.Refusal(), Counts: r.status.Input(name),
		})
	}
	r.ingest = ingest.New(ingest.Options{
		Inputs: inputs, Journal: r.journal, Rejected: keeper, MaxBodyBytes: int64(r.cfg.Relay.MaxBodyBytes),
		MaxConcurrent: r.cfg.Relay.MaxConcurrentRequests,
		Metrics:       r.metrics, Logger: r.logger, Now: r.now,
	})
	r.registerMetrics()
	return nil
}

// Handler is the relay's HTTP surface.
func (r *Relay) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ingest/", r.ingest)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !r.ready.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		r.refreshQueued()
		writeJSON(w, http.StatusOK, r.status.Snapshot())
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		r.refreshQueued()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = r.metrics.WriteText(w)
	})
	return mux
}

func (r *Relay) refreshQueued() {
	for _, o := range r.outputs {
		n, _ := o.queue.Lag()
		r.status.Output(o.cfg.Name).SetQueued(n)
	}
}

// Run serves until ctx ends, then shuts down in order. It returns an error
// when the listener cannot start or the spool fails.
func (r *Relay) Run(ctx context.Context) error {
	ln, err := r.listen()
	if err != nil {
		r.closeAll()
		return err
	}
	srv := &http.Server{Handler: r.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(r.logger.Handler(), slog.LevelWarn)}
	serveErr := make(chan error, 1)
	go func() { serveErr <- r.serve(srv, ln) }()
	r.logger.Info("auditrelay listening", "addr", ln.Addr().String(), "inputs", r.cfg.InputNames(), "outputs", r.cfg.OutputNames())

	loopCtx, stopLoops := context.WithCancel(context.Background())
	defer stopLoops()
	pullCtx, stopPullers := context.WithCancel(ctx)
	defer stopPullers()
	var wg, pulling sync.WaitGroup
	loopErr := make(chan error, len(r.outputs)+len(r.pullers))
	for name, p := range r.pullers {
		pulling.Go(func() {
			if err := p.Run(pullCtx); err != nil {
				loopErr <- fmt.Errorf("input %s: %w", name, err)
			}
		})
	}
	for _, o := range r.outputs {
		if !o.cfg.Enabled {
			continue
		}
		wg.Go(func() {
			if err := o.loop.Run(loopCtx); err != nil {
				loopErr <- err
			}
		})
	}
	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		runErr = fmt.Errorf("listener: %w", err)
	case err := <-loopErr:
		runErr = err
	}
	stopPullers()
	pulling.Wait()
	r.shutdown(srv, stopLoops)
	wg.Wait()
	r.closeAll()
	return runErr
}

// listen opens the ingest listener, with TLS when [relay] names a cert.
func (r *Relay) listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", r.cfg.Relay.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another relay running? change [relay] listen)", r.cfg.Relay.Listen, err)
	}
	if r.cfg.Relay.TLSCertFile == "" {
		return ln, nil
	}
	cert, err := tls.LoadX509KeyPair(r.cfg.Relay.TLSCertFile, r.cfg.Relay.TLSKeyFile)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("listener TLS: %w", err)
	}
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}), nil
}

func (r *Relay) serve(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shutdown refuses new events, lets deliveries drain the queues for up to
// shutdown_timeout, then stops the loops and the listener.
func (r *Relay) shutdown(srv *http.Server, stopLoops context.CancelFunc) {
	timeout := r.cfg.Relay.ShutdownTimeout.D()
	r.logger.Info("shutting down: inputs refuse new events; delivering what is queued", "shutdown_timeout", timeout)
	r.ingest.Drain()
	r.ready.Store(false)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && r.pending() > 0 {
		time.Sleep(50 * time.Millisecond)
	}
	if n := r.pending(); n > 0 {
		r.logger.Warn("shutdown timeout reached; undelivered events stay in the spool for the next start", "events", n)
	}
	stopLoops()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

// pending is the events queued for enabled outputs.
func (r *Relay) pending() int64 {
	var n int64
	for _, o := range r.outputs {
		if !o.cfg.Enabled {
			continue
		}
		lag, _ := o.queue.Lag()
		n += lag
	}
	return n
}

func (r *Relay) closeAll() {
	for _, o := range r.outputs {
		if err := o.output.Close(); err != nil {
			r.logger.Warn("close output", "output", o.cfg.Name, "err", err)
		}
	}
	if r.ids != nil {
		if err := r.ids.Close(); err != nil {
			r.logger.Warn("close dedup id log", "err", err)
		}
	}
	if r.spool != nil {
		if err := r.spool.Close(); err != nil {
			r.logger.Error("close spool", "err", err)
		}
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// OpenJournal opens the spool and a journal over it without serving, for
// `auditrelay replay` and `deadletter replay` while the relay is stopped.
func OpenJournal(cfg *conf.Config, logger *slog.Logger) (*journal.Journal, *delivery.DeadLetter, func() error, error) {
	sp, err := spool.Open(spool.Options{
		Dir:      filepath.Join(cfg.Relay.DataDir, "spool"),
		MaxBytes: int64(cfg.Relay.SpoolMaxBytes),
		Logger:   logger,
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open spool in %s (stop the running relay first): %w", cfg.Relay.DataDir, err)
	}
	ids, err := journal.OpenIDLog(filepath.Join(cfg.Relay.DataDir, "dedup"), cfg.Relay.DedupMaxEntries/2)
	if err != nil {
		sp.Close()
		return nil, nil, nil, err
	}
	closeAll := func() error { return errors.Join(ids.Close(), sp.Close()) }
	j := journal.New(sp, dedup.New(cfg.Relay.DedupMaxEntries, cfg.Relay.DedupWindow.D()), ids)
	if _, err := j.Rebuild(time.Now()); err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	dl, err := delivery.OpenDeadLetter(filepath.Join(cfg.Relay.DataDir, "deadletter"), time.Now)
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	return j, dl, closeAll, nil
}
