// Tracing and logs shared by the gateway, the subgraphs and every connector: one W3C trace id from the app through every system, and one JSON log line per operation and per system call.
//
// Guarantees: `startTelemetry` registers one tracer provider per process (later calls only add an exporter if
// one is asked for); canon's spans are always made, so every operation has a trace id to show, but are recorded
// and leave the process only when an OTLP endpoint is configured; without one, canon's spans carry ids only (the
// caller's trace, a span id of their own), and the spans libraries make (Apollo Gateway's gateway.* spans) are
// pass-through: they record nothing and the caller's span stays active, so trace ids and traceparent are unchanged. `injectTrace` writes `traceparent` for the active span onto outgoing headers.

import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Context,
  type ProxyTracerProvider,
  TraceFlags,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, RandomIdGenerator } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { pino, type Logger } from 'pino';

export { SpanKind, SpanStatusCode };
export type { Span };

const CANON_TRACER = 'canon';
export const tracer = trace.getTracer(CANON_TRACER);

/**
 * A tracer whose spans are the active span's context under another name: nothing is recorded, no context is
 * switched, and whatever runs inside sees (and propagates) its caller's span. For the spans of libraries when
 * nothing is exported: Apollo Gateway makes five spans and one per subgraph fetch for every request, each a
 * recorded SDK span and an AsyncLocalStorage run, which only an exporter would ever read.
 */
class PassThroughTracer implements Tracer {
  startSpan(_name: string, _options?: SpanOptions, ctx: Context = context.active()): Span {
    return trace.wrapSpanContext(trace.getSpanContext(ctx) ?? INVALID_SPAN_CONTEXT);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: [F] | [SpanOptions, F] | [SpanOptions, Context, F]): ReturnType<F> {
    const fn = args[args.length - 1] as (span: Span) => ReturnType<F>;
    const ctx = args.length === 3 ? args[1] : undefined;
    const span = this.startSpan(name, undefined, ctx);
    // Given another context than the active one, run in it, as startActiveSpan promises.
    return ctx ? context.with(trace.setSpan(ctx, span), fn, undefined, span) : fn(span);
  }
}

/**
 * canon's own spans when nothing is exported: each a fresh span id under the caller's trace (or a new trace, sampled),
 * which is all a trace id and `traceparent` need, without the SDK span's timing, attributes and end bookkeeping that
 * only an exporter reads (Span.end alone was 2.3% of the gateway's CPU under load).
 */
class IdOnlyTracer extends PassThroughTracer {
  private readonly ids = new RandomIdGenerator();
  override startSpan(_name: string, _options?: SpanOptions, ctx: Context = context.active()): Span {
    const parent = trace.getSpanContext(ctx);
    const valid = parent && trace.isSpanContextValid(parent);
    return trace.wrapSpanContext({
      traceId: valid ? parent.traceId : this.ids.generateTraceId(),
      spanId: this.ids.generateSpanId(),
      traceFlags: valid ? parent.traceFlags : TraceFlags.SAMPLED,
      ...(valid && parent.traceState ? { traceState: parent.traceState } : {}),
    });
  }

  override startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: [F] | [SpanOptions, F] | [SpanOptions, Context, F]): ReturnType<F> {
    const fn = args[args.length - 1] as (span: Span) => ReturnType<F>;
    const ctx = args.length === 3 ? args[1] : context.active();
    const span = this.startSpan(name, undefined, ctx);
    return context.with(trace.setSpan(ctx, span), fn, undefined, span);
  }
}

/** When nothing is exported: canon's own tracer makes ids only, every other library's is a pass-through one. */
class CanonSpansOnly implements TracerProvider {
  private readonly passThrough = new PassThroughTracer();
  private readonly idsOnly = new IdOnlyTracer();
  getTracer(name: string): Tracer {
    return name === CANON_TRACER ? this.idsOnly : this.passThrough;
  }
}

let provider: NodeTracerProvider | null = null;
let exporting = false;

export interface TelemetryOptions {
  /** OTLP/HTTP endpoint for spans (`OTEL_EXPORTER_OTLP_ENDPOINT`); without one, nothing leaves the process. */
  otlpEndpoint?: string;
}

/** Registers canon's tracer provider (W3C trace context, async-hooks context manager) once per process. */
export function startTelemetry(opts: TelemetryOptions = {}): void {
  if (!provider) {
    const processors = opts.otlpEndpoint ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${opts.otlpEndpoint.replace(/\/$/, '')}/v1/traces` }))] : [];
    exporting = Boolean(opts.otlpEndpoint);
    provider = new NodeTracerProvider({ resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'canon' }), spanProcessors: processors });
    provider.register();
    // Libraries took their tracers from the global proxy at import, before this; they resolve its delegate when they
    // first make a span, which is what is set here.
    if (!exporting) (trace.getTracerProvider() as ProxyTracerProvider).setDelegate(new CanonSpansOnly());
  } else if (opts.otlpEndpoint && !exporting) {
    // The provider is process-wide; a second stack in the same process asking for export gets a fresh registration.
    throw new Error('Telemetry already started without an OTLP endpoint in this process; set OTEL_EXPORTER_OTLP_ENDPOINT before the first start.');
  }
}

export async function stopTelemetry(): Promise<void> {
  await provider?.forceFlush();
}

/** Adds `traceparent` (and `tracestate`) for the active span to outgoing request headers. */
export function injectTrace(headers: Record<string, string>, ctx: Context = context.active()): Record<string, string> {
  propagation.inject(ctx, headers);
  return headers;
}

/** The trace context an incoming request carries (a new root when it carries none). */
export function extractTrace(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(context.active(), headers);
}

/** The active span's trace id, or null outside any span. */
export function activeTraceId(): string | null {
  const id = trace.getActiveSpan()?.spanContext().traceId;
  return id && !/^0+$/.test(id) ? id : null;
}

/** Runs `fn` inside a new active span, ending it (with an error status if `fn` throws) when `fn` settles. */
export function inSpan<T>(name: string, opts: { kind?: SpanKind; attributes?: Record<string, string | number | boolean>; parent?: Context }, fn: (span: Span) => Promise<T>): Promise<T> {
  const run = (span: Span) =>
    fn(span).then(
      (v) => {
        span.end();
        return v;
      },
      (e: unknown) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
        span.end();
        throw e;
      },
    );
  return opts.parent
    ? tracer.startActiveSpan(name, { kind: opts.kind, attributes: opts.attributes }, opts.parent, run)
    : tracer.startActiveSpan(name, { kind: opts.kind, attributes: opts.attributes }, run);
}

const loggers = new Map<string, Logger>();

/** A pino JSON logger at `level` (shared per level): lines carry `traceId` from the caller. */
export function createLogger(level: string): Logger {
  let l = loggers.get(level);
  if (!l) {
    // Written asynchronously: lines logged while a write is under way go out together in the next one, instead of
    // one synchronous write(2) per line on the request path (7% of the gateway's CPU under load). pino flushes
    // what is left when the process exits; a SIGKILL may lose the lines of the last write or so.
    l = pino({ level, base: { service: 'canon' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 1, sync: false }));
    loggers.set(level, l);
  }
  return l;
}

/** A logger that writes nothing: the default for code built without one (tests, tools). */
export const silentLogger: Logger = pino({ level: 'silent' });
