/**
 * ISO 4217 active currency codes and their minor-unit exponents. Codes not listed under an
 * exponent below have two decimals.
 */
const ZERO_DECIMALS = "bif clp djf gnf isk jpy kmf krw pyg rwf ugx uyi vnd vuv xaf xof xpf";
const THREE_DECIMALS = "bhd iqd jod kwd lyd omr tnd";
const FOUR_DECIMALS = "clf uyw";
const TWO_DECIMALS =
  "aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bmd bnd bob bov brl bsd btn bwp byn bzd " +
  "cad cdf che chf chw cny cop cou crc cuc cup cve czk dkk dop dzd egp ern etb eur fjd fkp gbp gel ghs " +
  "gip gmd gtq gyd hkd hnl htg huf idr ils inr irr jmd kes kgs khr kpw kyd kzt lak lbp lkr lrd lsl mad " +
  "mdl mga mkd mmk mnt mop mru mur mvr mwk mxn mxv myr mzn nad ngn nio nok npr nzd pab pen pgk php pkr " +
  "pln qar ron rsd rub sar sbd scr sdg sek sgd shp sle sll sos srd ssp stn svc syp szl thb tjs tmt top " +
  "try ttd twd tzs uah usd usn uyu uzs ved ves wst xcd xcg yer zar zmw zwg zwl";

const exponents = new Map<string, number>();
for (const [codes, exponent] of [
  [TWO_DECIMALS, 2],
  [ZERO_DECIMALS, 0],
  [THREE_DECIMALS, 3],
  [FOUR_DECIMALS, 4],
] as const) {
  for (const code of codes.split(" ")) exponents.set(code, exponent);
}

/**
 * The number of decimals of a currency's minor unit, or undefined for an unknown code.
 * @example currencyExponent("usd") // 2
 * @example currencyExponent("kwd") // 3
 */
export function currencyExponent(currency: string): number | undefined {
  return exponents.get(currency.toLowerCase());
}

/**
 * Every currency code the money module accepts, in lower case.
 * @example knownCurrencies().includes("usd") // true
 */
export function knownCurrencies(): string[] {
  return [...exponents.keys()];
}
