/** Explicit service lifecycle: starting -> ready -> draining -> stopped. */
export type LifecycleState = 'starting' | 'ready' | 'draining' | 'stopped';

export interface Lifecycle {
  readonly state: LifecycleState;
  set(state: LifecycleState): void;
}

export function makeLifecycle(): Lifecycle {
  let state: LifecycleState = 'starting';
  return {
    get state() {
      return state;
    },
    set(next) {
      state = next;
    },
  };
}
