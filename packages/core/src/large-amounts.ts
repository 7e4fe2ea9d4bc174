import { currencyExponent, knownCurrencies } from "./currencies";

/**
 * What a large payment is in each currency, in whole major units: about 1,000 US dollars, the
 * threshold SPEC §2 names for usd.
 *
 * Source: approximate mid-market rates (units per US dollar) of mid-2025, as published by central
 * banks and the IMF's representative rates; pegged currencies at their peg; fund codes (bov, che,
 * chw, clf, cou, mxv, usn, uyi, uyw) at the value of the unit they index. Each figure is 1,000 US
 * dollars at that rate, rounded to two significant digits. They are a screening signal, not a price:
 * a few percent of drift changes nothing, but a currency that moves by a multiple (ars, ves, lbp,
 * zwg) needs this table updated, or an override through `FraudThresholds.largeAmount`.
 */
// biome-ignore format: a table reads better packed, a row of currencies per line
const LARGE_AMOUNT_MAJOR_UNITS: Readonly<Record<string, number>> = {
  aed: 3_700, afn: 70_000, all: 85_000, amd: 390_000, ang: 1_800, aoa: 910_000, ars: 1_200_000,
  aud: 1_500, awg: 1_800, azn: 1_700, bam: 1_700, bbd: 2_000, bdt: 120_000, bgn: 1_700, bhd: 380,
  bif: 3_000_000, bmd: 1_000, bnd: 1_300, bob: 6_900, bov: 1_000, brl: 5_500, bsd: 1_000, btn: 85_000,
  bwp: 14_000, byn: 3_300, bzd: 2_000, cad: 1_400, cdf: 2_900_000, che: 900, chf: 850, chw: 850,
  clf: 26, clp: 950_000, cny: 7_200, cop: 4_100_000, cou: 11_000, crc: 510_000, cuc: 1_000,
  cup: 24_000, cve: 96_000, czk: 22_000, djf: 180_000, dkk: 6_600, dop: 60_000, dzd: 130_000,
  egp: 49_000, ern: 15_000, etb: 130_000, eur: 1_000, fjd: 2_300, fkp: 750, gbp: 800, gel: 2_700,
  ghs: 12_000, gip: 750, gmd: 72_000, gnf: 8_700_000, gtq: 7_700, gyd: 210_000, hkd: 7_800,
  hnl: 26_000, htg: 130_000, huf: 350_000, idr: 16_000_000, ils: 3_600, inr: 85_000, iqd: 1_300_000,
  irr: 42_000_000, isk: 130_000, jmd: 160_000, jod: 710, jpy: 150_000, kes: 130_000, kgs: 87_000,
  khr: 4_000_000, kmf: 430_000, kpw: 900_000, krw: 1_300_000, kwd: 310, kyd: 830, kzt: 510_000,
  lak: 22_000_000, lbp: 90_000_000, lkr: 300_000, lrd: 200_000, lsl: 18_000, lyd: 5_400, mad: 9_100,
  mdl: 17_000, mga: 4_500_000, mkd: 54_000, mmk: 2_100_000, mnt: 3_600_000, mop: 8_100, mru: 40_000,
  mur: 45_000, mvr: 15_000, mwk: 1_700_000, mxn: 19_000, mxv: 2_300, myr: 4_300, mzn: 64_000,
  nad: 18_000, ngn: 1_500_000, nio: 37_000, nok: 10_000, npr: 140_000, nzd: 1_700, omr: 390,
  pab: 1_000, pen: 3_600, pgk: 4_100, php: 56_000, pkr: 280_000, pln: 3_800, pyg: 8_000_000,
  qar: 3_600, ron: 4_400, rsd: 100_000, rub: 80_000, rwf: 1_400_000, sar: 3_800, sbd: 8_400,
  scr: 14_000, sdg: 600_000, sek: 9_600, sgd: 1_300, shp: 750, sle: 23_000, sll: 23_000_000,
  sos: 570_000, srd: 38_000, ssp: 4_500_000, stn: 22_000, svc: 8_800, syp: 13_000_000, szl: 18_000,
  thb: 33_000, tjs: 10_000, tmt: 3_500, tnd: 3_000, top: 2_400, try: 39_000, ttd: 6_800, twd: 30_000,
  tzs: 2_600_000, uah: 42_000, ugx: 3_600_000, usd: 1_000, usn: 1_000, uyi: 6_500, uyu: 40_000,
  uyw: 25_000, uzs: 13_000_000, ved: 100_000, ves: 100_000, vnd: 25_000_000, vuv: 120_000,
  wst: 2_700, xaf: 580_000, xcd: 2_700, xcg: 1_800, xof: 580_000, xpf: 100_000, yer: 250_000,
  zar: 18_000, zmw: 24_000, zwg: 27_000, zwl: 27_000,
};

/**
 * The large-amount threshold of a currency in its minor units, from the table above, or undefined
 * for a currency it does not name.
 * @example defaultLargeAmount("usd") // 100000
 * @example defaultLargeAmount("idr") // 1600000000
 */
export function defaultLargeAmount(currency: string): number | undefined {
  const major = LARGE_AMOUNT_MAJOR_UNITS[currency];
  const exponent = currencyExponent(currency);
  if (major === undefined || exponent === undefined) return undefined;
  return major * 10 ** exponent;
}

/** Currencies the money module accepts that have no large-amount threshold (none, checked by a test). */
export function currenciesWithoutLargeAmount(): string[] {
  return knownCurrencies().filter((code) => LARGE_AMOUNT_MAJOR_UNITS[code] === undefined);
}
