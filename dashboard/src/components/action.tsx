// Buttons that change something: they show that they are working, the outcome, and the API's error.
// ConfirmAction adds the confirmation step the dangerous ones need (kill switch, circuits, refunds):
// the first press asks, the second does it, Cancel or Escape backs out.
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { ActionOutcome } from './feedback';

export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string>();
  async function run(action: () => Promise<unknown>, success?: string): Promise<boolean> {
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      await action();
      if (success) setDone(success);
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, done, run };
}

export function ConfirmAction(props: {
  /** The button's accessible name (e.g. "Replay msg_123"); `text` is what it shows when shorter. */
  label: string;
  text?: string;
  question: ReactNode;
  confirmLabel?: string;
  danger?: boolean;
  action(): Promise<unknown>;
  onDone?(): void;
  success?: string;
}) {
  const [asking, setAsking] = useState(false);
  const { busy, error, done, run } = useAction();
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  return (
    <span className="action">
      {asking ? (
        <fieldset
          className="confirm"
          onKeyDown={(event) => {
            if (event.key === 'Escape') setAsking(false);
          }}
        >
          <legend className="visually-hidden">{`Confirm: ${props.label}`}</legend>
          <span>{props.question}</span>
          <button
            type="button"
            ref={confirmRef}
            className={props.danger ? 'danger' : 'primary'}
            disabled={busy}
            onClick={async () => {
              if (await run(props.action, props.success)) {
                setAsking(false);
                props.onDone?.();
              }
            }}
          >
            {props.confirmLabel ?? 'Confirm'}
          </button>
          <button type="button" onClick={() => setAsking(false)} disabled={busy}>
            Cancel
          </button>
        </fieldset>
      ) : (
        <button
          type="button"
          className={props.danger ? 'danger' : undefined}
          aria-label={props.text ? props.label : undefined}
          onClick={() => setAsking(true)}
        >
          {props.text ?? props.label}
        </button>
      )}
      <ActionOutcome done={done} error={error} />
    </span>
  );
}
