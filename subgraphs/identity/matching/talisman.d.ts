// Types for the few talisman modules the matcher uses (the package ships none): string similarity and phonetic keys.

declare module 'talisman/metrics/jaro-winkler.js' {
  /** Jaro-Winkler similarity in [0, 1]; 1 for equal strings. */
  const jaroWinkler: (a: string, b: string) => number;
  export default jaroWinkler;
}

declare module 'talisman/metrics/damerau-levenshtein.js' {
  /** Edit distance counting an adjacent transposition as one edit. */
  const damerauLevenshtein: (a: string, b: string) => number;
  export default damerauLevenshtein;
}

declare module 'talisman/phonetics/double-metaphone.js' {
  /** Primary and secondary Double Metaphone codes, at most 4 characters each. */
  const doubleMetaphone: (word: string) => [string, string];
  export default doubleMetaphone;
}
