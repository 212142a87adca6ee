// The parts of PayPal's Orders v2 / Payments v2 wire objects this connector reads. Every field is
// optional: PayPal leaves fields out freely (representation vs minimal, intent, state), and a field we
// expected but did not get must lead to `unknown`, never to a crash or a guess.

export interface PayPalMoney {
  currency_code?: string;
  value?: string;
}

export interface PayPalLink {
  href?: string;
  rel?: string;
  method?: string;
}

export interface PayPalProcessorResponse {
  avs_code?: string;
  cvv_code?: string;
  response_code?: string;
  payment_advice_code?: string;
}

export interface PayPalCapture {
  id?: string;
  status?: string;
  status_details?: { reason?: string };
  amount?: PayPalMoney;
  final_capture?: boolean;
  custom_id?: string;
  invoice_id?: string;
  seller_receivable_breakdown?: {
    gross_amount?: PayPalMoney;
    paypal_fee?: PayPalMoney;
    net_amount?: PayPalMoney;
  };
  processor_response?: PayPalProcessorResponse;
  supplementary_data?: { related_ids?: { order_id?: string; authorization_id?: string } };
  links?: PayPalLink[];
}

export interface PayPalAuthorization {
  id?: string;
  status?: string;
  status_details?: { reason?: string };
  amount?: PayPalMoney;
  processor_response?: PayPalProcessorResponse;
  supplementary_data?: { related_ids?: { order_id?: string } };
}

export interface PayPalRefund {
  id?: string;
  status?: string;
  status_details?: { reason?: string };
  amount?: PayPalMoney;
}

export interface PayPalCardSource {
  last_digits?: string;
  brand?: string;
  type?: string;
}

export interface PayPalOrder {
  id?: string;
  status?: string;
  intent?: string;
  payment_source?: { card?: PayPalCardSource; paypal?: Record<string, unknown> };
  purchase_units?: {
    reference_id?: string;
    custom_id?: string;
    invoice_id?: string;
    amount?: PayPalMoney;
    payments?: {
      captures?: PayPalCapture[];
      authorizations?: PayPalAuthorization[];
      refunds?: PayPalRefund[];
    };
  }[];
  links?: PayPalLink[];
}

export interface PayPalWebhookEvent {
  id?: string;
  event_type?: string;
  resource_type?: string;
  create_time?: string;
  resource?: Record<string, unknown>;
}
