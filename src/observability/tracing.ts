// Owns OpenTelemetry tracing: one span per HTTP request and a child span per SQL statement, exported over
// OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set; fully sampled when ENHANCED_MONITORING=true.
import { AsyncLocalStorage } from 'node:async_hooks';
import { context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface TracingOptions {
  endpoint: string | undefined;
  sampleRatio: number;
  fullSampling: boolean;
}

export class Tracing {
  private readonly tracer: Tracer | undefined;
  /** The current request's span, so SQL spans made deep in a service find their parent. */
  private readonly currentSpan = new AsyncLocalStorage<Span>();

  private constructor(private readonly provider: NodeTracerProvider | undefined) {
    this.tracer = provider?.getTracer('payment-service');
  }

  /** The SDK and exporter load only when tracing is configured: they cost every start a quarter second. */
  static async create(options: TracingOptions): Promise<Tracing> {
    if (!options.endpoint) return new Tracing(undefined);
    const [{ OTLPTraceExporter }, { resourceFromAttributes }, base, { NodeTracerProvider }] =
      await Promise.all([
        import('@opentelemetry/exporter-trace-otlp-http'),
        import('@opentelemetry/resources'),
        import('@opentelemetry/sdk-trace-base'),
        import('@opentelemetry/sdk-trace-node'),
      ]);
    const { AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } = base;
    const sampler = options.fullSampling
      ? new AlwaysOnSampler()
      : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) });
    const provider = new NodeTracerProvider({
      sampler,
      resource: resourceFromAttributes({ 'service.name': 'payment-service' }),
      spanProcessors: [
        new BatchSpanProcessor(
          new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/$/, '')}/v1/traces` }),
          { scheduledDelayMillis: 500 },
        ),
      ],
    });
    return new Tracing(provider);
  }

  get enabled(): boolean {
    return this.tracer !== undefined;
  }

  startRequestSpan(name: string, attributes: Record<string, string>): Span | undefined {
    return this.tracer?.startSpan(name, { kind: SpanKind.SERVER, attributes });
  }

  /** Runs `fn` with `span` as the current request span (used from fastify's onRequest hook). */
  runWithSpan(span: Span | undefined, fn: () => void): void {
    if (span) this.currentSpan.run(span, fn);
    else fn();
  }

  /** Records a finished SQL statement as a child of the current request span. */
  recordQuery(sqlText: string, durationMs: number, error?: unknown): void {
    // Statements outside a request (migrations, job polling every few hundred ms) would each become a
    // one-span trace: noise that buries the request traces on-call is looking for.
    const parent = this.currentSpan.getStore();
    if (!this.tracer || !parent?.isRecording()) return;
    const parentContext = trace.setSpan(context.active(), parent);
    const end = Date.now();
    const span = this.tracer.startSpan(
      sqlText.trimStart().split(/\s+/, 1)[0]?.toUpperCase() || 'SQL',
      {
        kind: SpanKind.CLIENT,
        startTime: end - durationMs,
        attributes: { 'db.system': 'postgresql', 'db.statement': sqlText.slice(0, 2000) },
      },
      parentContext,
    );
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    span.end(end);
  }

  endRequestSpan(span: Span | undefined, statusCode: number): void {
    if (!span) return;
    span.setAttribute('http.response.status_code', statusCode);
    if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }

  async shutdown(): Promise<void> {
    await this.provider?.shutdown();
  }
}
