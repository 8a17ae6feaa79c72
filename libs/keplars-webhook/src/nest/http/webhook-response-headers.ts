import { BadRequestException, ConflictException, HttpException, InternalServerErrorException, ServiceUnavailableException } from '@nestjs/common';
import type { KeplarsAnswer, KeplarsWebhookAnswer } from '../../core/5-answer/answer-delivery.js';
import { REFUSED_HEADER } from '../../core/5-answer/answer-headers.js';

/** Express's `response` and Fastify's `reply` both have `header(name, value)`. */
interface HeaderTarget {
  header?(name: string, value: string): unknown;
  setHeader?(name: string, value: string): unknown;
}

export function setResponseHeader(response: unknown, name: string, value: string): void {
  const target = response as HeaderTarget;
  if (typeof target.header === 'function') target.header(name, value);
  else target.setHeader?.(name, value);
}

/** Marks an answer as the module's own refusal, then hands back the exception to throw. */
export function refusal<E extends Error>(response: unknown, exception: E): E {
  setResponseHeader(response, REFUSED_HEADER, '1');
  return exception;
}

/**
 * The core's answer as Nest gives it: the body of a 200, or the refusal thrown as the matching
 * `HttpException` (Nest's error shape, no internal detail), marked as the module's own.
 */
export function httpAnswer(answer: KeplarsAnswer, response: unknown): KeplarsWebhookAnswer {
  if (answer.status === 200) return answer.body;
  throw refusal(response, httpException(answer));
}

function httpException(answer: Exclude<KeplarsAnswer, { status: 200 }>): HttpException {
  switch (answer.status) {
    case 400:
      return new BadRequestException(answer.messages);
    case 409:
      return new ConflictException(answer.message);
    case 500:
      return new InternalServerErrorException(answer.message);
    case 503:
      return new ServiceUnavailableException(answer.message);
  }
}
