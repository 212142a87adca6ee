// Owns OpenTelemetry tracing: one span per HTTP request and a child span per SQL statement, exported over
// OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set; fully sampled when ENHANCED_MONITORING=true.
import { AsyncLocalStorage } from 'node:async_hooks';
import { context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface TracingOptions {
  endpoint: string | undefined;
  sampleRatio: number;
  fullSampling: boolean;
}

export class Tracing {
  private readonly provider: NodeTracerProvider | undefined;
  private readonly tracer: Tracer | undefined;
  /** The current request's span, so SQL spans made deep in a service find their parent. */
  private readonly currentSpan = new AsyncLocalStorage<Span>();

  constructor(options: TracingOptions) {
    if (!options.endpoint) return;
    const sampler = options.fullSampling
      ? new AlwaysOnSampler()
      : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) });
    this.provider = new NodeTracerProvider({
      sampler,
      resource: resourceFromAttributes({ 'service.name': 'payment-service' }),
      spanProcessors: [
        new BatchSpanProcessor(
          new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/$/, '')}/v1/traces` }),
          { scheduledDelayMillis: 500 },
        ),
      ],
    });
    this.tracer = this.provider.getTracer('payment-service');
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
