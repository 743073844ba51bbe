/** Small shared pieces: the failure and success notices, dates, a loader hook, and the pager. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { messageOf } from './api';

export function Failure({ message }: { message: string | null }) {
  return message === null ? null : (
    <p role="alert" class="failure">
      {message}
    </p>
  );
}

export function Notice({ message }: { message: string | null }) {
  return message === null ? null : (
    <p role="status" class="notice">
      {message}
    </p>
  );
}

export function when(iso: string | null | undefined): string {
  return iso === null || iso === undefined ? '-' : new Date(iso).toLocaleString();
}

/** Runs an action, keeping its failure's detail (or null) and a busy flag for the buttons. */
export function useAction(): {
  busy: boolean;
  failure: string | null;
  notice: string | null;
  run: (action: () => Promise<string | void>) => Promise<boolean>;
} {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const run = useCallback(async (action: () => Promise<string | void>) => {
    setBusy(true);
    setFailure(null);
    setNotice(null);
    try {
      const done = await action();
      setNotice(typeof done === 'string' ? done : null);
      return true;
    } catch (error) {
      setFailure(messageOf(error));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, failure, notice, run };
}

/** Loads something when `key` changes; `reload` loads it again. */
export function useLoad<T>(load: () => Promise<T>, key: string): { data: T | null; failure: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setFailure(null);
    load().then(
      (value) => live && setData(value),
      (error: unknown) => {
        if (live) {
          setData(null);
          setFailure(messageOf(error));
        }
      },
    );
    return () => {
      live = false;
    };
  }, [key, round]);
  return { data, failure, reload: () => setRound((n) => n + 1) };
}

/**
 * Previous / next page of a keyset list: `cursors` holds the cursors of the pages before the one
 * shown (the last one loads it), so going back drops one and going on adds the page's nextCursor.
 */
export function Pager({
  cursors,
  nextCursor,
  onChange,
}: {
  cursors: string[];
  nextCursor: string | null;
  onChange: (cursors: string[]) => void;
}) {
  return (
    <div class="pager">
      <button type="button" class="secondary" disabled={cursors.length === 0} onClick={() => onChange(cursors.slice(0, -1))}>
        Previous page
      </button>
      <button
        type="button"
        class="secondary"
        disabled={nextCursor === null}
        onClick={() => nextCursor !== null && onChange([...cursors, nextCursor])}
      >
        Next page
      </button>
    </div>
  );
}
