// Chaos scenario 1: SIGKILL the service at a random point while CHAOS_PAYMENTS card payments are in
// flight, CHAOS_ROUNDS times; restart it, recover, retry every key, check the money (chaos-checks.ts).
import { afterFault, leftBehind, note, type Verdict } from './chaos-checks.js';
import { createAgent, newKeys, pay, tally } from './chaos-client.js';
import { EmulatorProcess, ServiceProcess } from './chaos-procs.js';
import { createDatabase } from './payments-procs.js';

export async function processKills(verdict: Verdict, adminUrl: string, rounds: number, payments: number) {
  const db = await createDatabase(adminUrl);
  const stripe = await EmulatorProcess.start('stripe');
  const paypal = await EmulatorProcess.start('paypal');
  const service = await ServiceProcess.create('kills', {
    DATABASE_URL: db.url,
    ...stripe.serviceEnv(),
    ...paypal.serviceEnv(),
  });
  await stripe.sendWebhooksTo(service);
  await service.turnOffCardVelocity();
  let killedAnswered = 0;
  let restartMs = 0;
  for (let round = 1; round <= rounds; round++) {
    const keys = newKeys(`kill-r${round}`, payments, 1000 + round * 10_000);
    // Kill once a random share (0-90%) of the payments have been answered: anywhere in the run, from
    // before the first answer to near the end, so kills land in every phase of a payment.
    const target = Math.floor(Math.random() * 0.9 * payments);
    const agent = createAgent(payments);
    let answered = 0;
    const started = performance.now();
    const all = Promise.all(
      keys.map((record) =>
        pay(service.port, service.secretKey, record, agent).then(() => {
          answered++;
        }),
      ),
    );
    while (answered < target) await new Promise((resolve) => setTimeout(resolve, 2));
    const killedAt = performance.now() - started;
    const answeredAtKill = answered;
    await service.kill();
    await all;
    agent.destroy();
    killedAnswered += answeredAtKill;
    const left = await leftBehind(db.url);
    const restarted = performance.now();
    await service.start();
    restartMs += performance.now() - restarted;
    process.stdout.write(
      `\n round ${round}/${rounds}: ${payments} payments in flight, SIGKILL after ${killedAt.toFixed(0)} ms with ` +
        `${answeredAtKill} answered; answers: ${tally(keys.map((k) => k.answers[0]!))}\n`,
    );
    note(`left by the kill (whole database): ${left}`);
    // Odd rounds: clients retry at once; even rounds: the jobs alone recover, then clients retry.
    const order = round % 2 === 1 ? 'retries-first' : 'jobs-first';
    note(`recovery order: ${order}`);
    await afterFault(verdict, service, db.url, keys, [stripe, paypal], order);
  }
  note(
    `${rounds} kills; ${rounds * payments} payments sent, ${killedAnswered} answered before their kill; ` +
      `restart to ready ${(restartMs / rounds).toFixed(0)} ms on average`,
  );
  await service.stop();
  await stripe.stop();
  await paypal.stop();
  await db.drop();
}
