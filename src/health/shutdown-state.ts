import { Injectable } from '@nestjs/common';

/** Flipped by the SIGTERM handler so readiness turns 503 before the server stops accepting. */
@Injectable()
export class ShutdownState {
  private draining = false;

  begin(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }
}
