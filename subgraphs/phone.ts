// Phone numbers: parsing what people typed into E.164 with libphonenumber (never a regex).

import libphonenumber from 'google-libphonenumber';

const util = libphonenumber.PhoneNumberUtil.getInstance();

/**
 * The E.164 form of `raw`, or null when it is not a valid number. National formats need `region`
 * (ISO 3166-1 alpha-2): "030 1234567" is only a number once we know it is German.
 */
export function toE164(raw: string | null | undefined, region?: string | null): string | null {
  if (!raw || !raw.trim()) return null;
  try {
    const parsed = util.parseAndKeepRawInput(raw, region?.toUpperCase() || undefined);
    if (!util.isValidNumber(parsed)) return null;
    return util.format(parsed, libphonenumber.PhoneNumberFormat.E164);
  } catch {
    return null;
  }
}
