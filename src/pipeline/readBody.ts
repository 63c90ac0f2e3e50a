import { WebhookError } from '../domain/errors.js';

export type MediaType = 'application/json' | 'text/plain';

export interface BodyText {
  mediaType: MediaType;
  text: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks the media type and decodes the raw bytes (the size limit is enforced while they are read, by the
 * HTTP layer). TradingView sends `application/json` when the alert message is valid JSON, else `text/plain`.
 */
export function readBody(contentType: string | undefined, raw: Buffer): BodyText {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType !== 'application/json' && mediaType !== 'text/plain') {
    throw new WebhookError(
      'WH_ERR_UNSUPPORTED_MEDIA_TYPE',
      `Content-Type ${mediaType ? `"${mediaType}"` : '(missing)'} is not accepted: send application/json or text/plain.`,
      { details: { accepted: ['application/json', 'text/plain'] } },
    );
  }
  const charset = /charset\s*=\s*"?([^";]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw new WebhookError('WH_ERR_UNSUPPORTED_MEDIA_TYPE', `charset "${charset}" is not accepted: send UTF-8.`);
  }
  let text: string;
  try {
    text = decoder.decode(raw);
  } catch {
    throw new WebhookError('WH_ERR_MALFORMED_BODY', 'The body is not valid UTF-8 text.');
  }
  if (text.trim() === '') {
    throw new WebhookError('WH_ERR_MALFORMED_BODY', 'The body is empty: put the alert message (JSON) in the TradingView alert.');
  }
  return { mediaType, text };
}
