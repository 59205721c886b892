// Phone numbers: parsing what people typed into E.164 with libphonenumber (never a regex).

import libphonenumber from 'google-libphonenumber';

const util = libphonenumber.PhoneNumberUtil.getInstance();

/**
 * The E.164 form of `raw`, or null when it is not a valid number. National formats need `region`
 * (ISO 3166-1 alpha-2): "030 1234567" is only a number once we know it is German.
 */
export function toE164(raw: string | null | undefined, region?: string | null): string | null {
  if (!raw || !raw.trim()) return null;
  const parsed = parseValid(raw, region) ?? (raw.trim().startsWith('00') ? parseValid(`+${raw.trim().slice(2)}`, null) : null);
  return parsed ? util.format(parsed, libphonenumber.PhoneNumberFormat.E164) : null;
}

// "00" is the international prefix almost everywhere but North America, so a US contact's "001 415 …" was typed
// from abroad; reading it as "+1 415 …" is what the person meant.
function parseValid(raw: string, region: string | null | undefined): libphonenumber.PhoneNumber | null {
  try {
    const parsed = util.parseAndKeepRawInput(raw, region?.toUpperCase() || undefined);
    return util.isValidNumber(parsed) ? parsed : null;
  } catch {
    return null;
  }
}
