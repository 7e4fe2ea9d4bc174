import { createReadModelStore } from "@payments/adapters/dynamodb";
import { fraudThresholdsFromConfig } from "@payments/core";
import { Resource } from "sst";
import { lazy } from "../shared/lazy";
import { createWiring } from "../shared/wiring";
import { createDriftFinder } from "./drift";
import { createSettler } from "./settle";

/**
 * What the reconciler, `npm run reconcile` and the console's Needs attention page share: the event
 * store, the read models, and a client per provider, built on first use from the linked resources.
 */
export function createReconcileWiring() {
  const wiring = createWiring({ fraudThresholds: fraudThresholdsFromConfig(process.env) });
  const readModels = lazy(() =>
    createReadModelStore({
      client: wiring.dynamodb(),
      tableName: Resource.ReadModels.name,
      transactionLogTableName: Resource.TransactionLog.name,
    }),
  );
  const zalopay = () => wiring.zalopay().client;
  const settle = lazy(() =>
    createSettler({
      store: wiring.store(),
      handle: wiring.handle(),
      gateway: wiring.gateway(),
      stripe: wiring.stripeLookup(),
      zalopay,
      payos: wiring.payos,
    }),
  );
  const drift = lazy(() =>
    createDriftFinder({
      store: wiring.store(),
      readModels: readModels(),
      handle: wiring.handle(),
      stripe: wiring.stripeLookup(),
      zalopay,
      payos: wiring.payos,
    }),
  );
  return { ...wiring, readModels, settle, drift };
}
