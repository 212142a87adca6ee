// Runbook 003's `payment_fraud_detections_total`: one count per rule that fired on a confirmation,
// labelled with the rule and the action it asked for (a payment several rules flag counts once per rule).
import client from 'prom-client';

export class FraudMetrics {
  readonly detections: client.Counter<'rule' | 'action'>;

  constructor(registry: client.Registry) {
    this.detections = new client.Counter({
      name: 'payment_fraud_detections_total',
      help: 'Fraud rules that fired on a payment confirmation, by rule and action (block, review, request_three_d_secure)',
      labelNames: ['rule', 'action'],
      registers: [registry],
    });
  }
}
