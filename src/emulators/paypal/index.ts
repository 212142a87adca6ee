// The PayPal emulator's public surface for the composition root, payctl and tests.
export {
  EMBEDDED_PAYPAL_CLIENT_ID,
  EMBEDDED_PAYPAL_CLIENT_SECRET,
  type PayPalEmulator,
  type PayPalEmulatorOptions,
  startPayPalEmulator,
} from './server.js';
export {
  paypalSignatureHeaders,
  signedMessage,
  verifyPayPalSignature,
  type WebhookSigner,
} from './webhooks.js';
