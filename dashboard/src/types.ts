// The shapes the dashboard reads from /admin (only the fields it shows).

export interface Overview {
  object: 'dashboard_overview';
  window: string;
  livemode: boolean;
  since: number;
  until: number;
  payments: {
    attempts: number;
    succeeded: number;
    declined: number;
    failed: number;
    success_rate: number | null;
    decline_rate: number | null;
  };
  volume: { gateway: string; currency: string; count: number; amount: number }[];
  p99_processing_ms: number | null;
  gateway_errors: { gateway: string; count: number }[];
  dispute_rate: number | null;
  refund_rate: number | null;
  series: { start: number; succeeded: number; declined: number; failed: number }[];
  alerts: { kill_switch: boolean; open_circuits: string[] };
}

export interface OperatorPayment {
  id: string;
  merchant: string;
  livemode: boolean;
  status: string;
  amount: number;
  amount_received: number;
  currency: string;
  customer: string | null;
  provider: string | null;
  latest_charge: string | null;
  last_error: string | null;
  metadata: Record<string, string>;
  created: number;
  amount_capturable?: number;
}

export interface Delivery {
  id: string;
  event: string;
  endpoint: string;
  merchant: string;
  livemode: boolean;
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created: number;
  delivered_at: number | null;
}

export interface Endpoint {
  id: string;
  merchant: string;
  url: string;
  status: string;
  enabled_events?: string[];
  livemode?: boolean;
  created?: number;
}

export interface InboundWebhook {
  id: string;
  provider: string;
  type: string;
  status: string;
  attempts?: number;
  last_error?: string | null;
  received_at?: number | string;
  created?: number;
}

export interface ProviderStatus {
  provider: string;
  configured: boolean;
  state?: string;
  breaker_state?: string;
  forced?: string | null;
  breaker_enabled?: boolean;
  in_flight?: number;
  queue_depth?: number;
  backoff_until?: string | null;
  last_transition?: { to: string; at: string } | null;
}

export interface RuntimeSwitch {
  name: string;
  enabled: boolean;
  source: string;
  default: boolean;
  updated_at: number | null;
  updated_by: string | null;
}

export interface FeatureFlag {
  name: string;
  description: string;
  killed: boolean;
  killed_at: number | null;
  killed_by: string | null;
  environment: string;
  rollout: { value: number };
  state: string;
  environments: Record<string, { rollout: { value: number }; source: string }>;
}

export interface AuditRow {
  id: string;
  seq: number | string;
  occurred_at: number;
  actor: { type: string; id: string | null };
  action: string;
  resource: { type: string; id: string | null } | null;
  outcome: string;
  origin: string | null;
  old_value: unknown;
  new_value: unknown;
}
