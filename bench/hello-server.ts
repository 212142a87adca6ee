// The machine's HTTP limit for `npm run bench`: a fastify 5 hello-world in its own process, answering
// the payment request bench/payments-load.ts sends with a fixed "succeeded" body, so the same load tool
// drives it and the service and "ratio to the limit" compares like with like. The form body is taken
// as a string and not parsed: this is fastify and Node's HTTP path alone, no work of the service's.
//   PORT=<n> node dist-bench/bench/hello-server.js
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) =>
  done(null, body),
);
app.get('/', async () => ({ hello: 'world' }));
app.post('/v1/payment_intents', async () => ({
  id: 'pi_hello',
  object: 'payment_intent',
  status: 'succeeded',
}));

const close = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', close);
process.once('SIGINT', close);
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
