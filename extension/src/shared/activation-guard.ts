// The button by which the user agrees (Continue, or Sign in in the chooser) stays inert for a
// moment after the extension's window is shown or comes back to the front, as browsers do for
// their own permission prompts: a page that opened the window with the first click of a
// double click, or a "type here" game, cannot land its next click or key on the button the
// user never saw (protocol-spec.md#extension-processing, step 2; threat 41).

/** How long the agreeing button waits after the window is shown or regains focus, in ms. */
export const ACTIVATION_DELAY_MS = 700;

export interface ActivationGuard {
  /** The window was shown, or came back to the front: the button waits again. */
  rearm(): void;
  /** Whether a click or key on the button counts now. */
  armed(): boolean;
  /** Milliseconds until it does. */
  msLeft(): number;
}

export function createActivationGuard(
  now: () => number,
  delayMs = ACTIVATION_DELAY_MS,
): ActivationGuard {
  let since = now();
  const msLeft = () => Math.max(0, delayMs - (now() - since));
  return {
    rearm: () => {
      since = now();
    },
    armed: () => msLeft() === 0,
    msLeft,
  };
}
