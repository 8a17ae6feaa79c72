// Never imported by the app: compiled only so that `tsc` proves the published types still catch a
// handler typed for the wrong event. If the narrowing broke, the expected error would vanish and
// `tsc` would fail with "Unused '@ts-expect-error' directive".
import { OnKeplarsEvent, type EmailBouncedEvent } from 'nestjs-keplars-webhook';

export class TypingMistakes {
  // @ts-expect-error an opened event is not a bounce
  @OnKeplarsEvent('email.opened')
  onOpened(event: EmailBouncedEvent): void {
    void event;
  }
}
