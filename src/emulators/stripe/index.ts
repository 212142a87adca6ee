// The Stripe emulator's public surface for the composition root and payctl.
export {
  EMULATOR_API_VERSION,
  type StripeEmulator,
  type StripeEmulatorOptions,
  startStripeEmulator,
} from './server.js';
export { stripeSignatureHeader } from './webhooks.js';
