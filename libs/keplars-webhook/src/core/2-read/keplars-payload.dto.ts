// class-transformer's @Type() reads design-time metadata: Nest apps load this polyfill anyway.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  IsISO8601,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

// These classes are the single definition of a valid Keplars payload (SPEC §1). The fast path in
// `compile-fast-check.ts` reads their metadata; it never restates the rules.

/** An event type: dotted words, e.g. `email.delivered`; new types are accepted. */
const EVENT_TYPE = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const EVENT_TYPE_MESSAGE = '$property must name the event type, e.g. "email.delivered"';

/**
 * The email fields, which Keplars sends at the top level (flat shape) or under `data` (envelope and
 * event + data shapes). Unknown extra fields are allowed: Keplars adds fields without notice.
 */
export class KeplarsEmailFieldsDto {
  @IsOptional() @IsString() email_id?: string;
  @IsOptional() @IsString() job_id?: string;
  @IsOptional() @IsString() message_id?: string;
  @IsOptional() @IsString() workspace_id?: string;
  @IsOptional() @IsString() to?: string;
  @IsOptional() @IsString() recipient?: string;
  @IsOptional() @IsString() subject?: string;
  @IsOptional() @IsString() status?: string;
  @IsOptional() @IsISO8601() timestamp?: string;
  @IsOptional() @IsObject() metadata?: Record<string, unknown>;
  @IsOptional() @IsString() bounce_reason?: string;
  @IsOptional() @IsString() bounce_type?: string;
  @IsOptional() @IsString() bounce_kind?: string;
  @IsOptional() @IsString() reason?: string;
  @IsOptional() @IsString() url?: string;
  @IsOptional() @IsString() error?: string;
}

/** A Keplars webhook body in any of its three shapes (SPEC §1). */
export class KeplarsPayloadDto extends KeplarsEmailFieldsDto {
  /** Keplars' event id (envelope shape); optional, a content-derived id stands in for it. */
  // class-validator checks a property's rules bottom-up and stops at the first failure: `IsString`
  // last, so a number is told it must be a string, not that it is too long.
  @IsOptional() @MaxLength(256) @IsNotEmpty() @IsString() id?: string;

  /** The event type in the envelope shape; required unless `event` names it. */
  @ValidateIf((payload: KeplarsPayloadDto) => payload.type !== undefined || payload.event === undefined)
  @Matches(EVENT_TYPE, { message: EVENT_TYPE_MESSAGE })
  @MaxLength(128)
  @IsString({ message: EVENT_TYPE_MESSAGE })
  type?: string;

  /** The event type in the flat and event + data shapes; required unless `type` names it. */
  @ValidateIf((payload: KeplarsPayloadDto) => payload.event !== undefined || payload.type === undefined)
  @Matches(EVENT_TYPE, { message: EVENT_TYPE_MESSAGE })
  @MaxLength(128)
  @IsString({ message: EVENT_TYPE_MESSAGE })
  event?: string;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => KeplarsEmailFieldsDto)
  data?: KeplarsEmailFieldsDto;
}
