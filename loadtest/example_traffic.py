"""The example deployments' traffic (config/examples/): what each one's
clients send. Used by loadtest/examples.py, which plays it against a chgate
at the examples' rates, and by tests/integration/test_examples.py."""

COUNTRIES = ["US", "DE", "GB", "FR", "IN", "BR", "JP"]
EVENT_TYPES = ["page_view", "page_view", "page_view", "add_to_cart", "purchase", "search", "click"]


def users(start, n, rnd):
    """The analytics loader's users, ids start .. start+n-1."""
    return [{"user_id": i, "country": rnd.choice(COUNTRIES), "is_premium": i % 7 == 0, "age": 18 + i % 60,
             "registered_at": "2026-01-01 00:00:00"} for i in range(start, start + n)]


def products(n):
    return [{"product_id": i, "category": f"c{i % 12}", "name": f"product {i}",
             "price": round(1 + i % 200 * 0.5, 2)} for i in range(n)]


def events(start, n, rnd, users_count=10_000):
    """The analytics streamer's events: about 260 bytes each, over six hours of one day."""
    out = []
    for i in range(start, start + n):
        t = rnd.choice(EVENT_TYPES)
        out.append({"event_id": f"e{i}", "user_id": rnd.randrange(users_count), "session_id": f"s{i // 20}",
                    "event_type": t, "event_timestamp": f"2026-12-03 {8 + i % 6:02d}:{i % 60:02d}:00",
                    "page_url": "https://shop.example.com/", "device_type": "mobile", "browser": "Firefox",
                    "country": rnd.choice(COUNTRIES),
                    "revenue": round(rnd.random() * 100, 2) if t == "purchase" else 0,
                    "duration_seconds": rnd.randrange(600)})
    return out


def orders(start, n, rnd, users_count=10_000, products_count=50):
    return [{"order_id": f"o{i}", "user_id": rnd.randrange(users_count),
             "product_id": rnd.randrange(products_count), "quantity": 1 + rnd.randrange(3),
             "amount": round(5 + rnd.random() * 95, 2), "status": rnd.choice(["paid", "paid", "refunded", "pending"]),
             "payment_method": "card", "order_timestamp": f"2026-12-0{1 + i % 3} 12:00:00"}
            for i in range(start, start + n)]


def _stamp(i):
    return f"2026-12-03 {i % 24:02d}:{i % 60:02d}:{i % 57:02d}"


def metrics(table, start, n, rnd):
    """Rows of one of the metrics example's four time series."""
    rows = []
    for i in range(start, start + n):
        base = {"timestamp": _stamp(i), "customer_id": f"c{i % 3}"}
        if table == "performance_metrics_ts":
            base.update(service_id=f"svc{i % 4}", service_type="llm", model_name=f"m{i % 2}", request_id=f"r{i}",
                        latency_ms=round(rnd.uniform(5, 900), 3), throughput_tokens_per_sec=50.0,
                        gpu_utilization=round(rnd.uniform(0, 100), 2), kv_cache_utilization=0.5, batch_size=8,
                        prompt_tokens=100, completion_tokens=i % 300, total_tokens=100 + i % 300)
        elif table == "resource_metrics_ts":
            base.update(instance_id=f"i{i % 10}", instance_type="g5", gpu_index=i % 4,
                        gpu_utilization=rnd.uniform(0, 100), gpu_memory_used_mb=1000.0, gpu_memory_total_mb=24000.0,
                        gpu_temperature=round(rnd.uniform(40, 90), 1), cpu_utilization=rnd.uniform(0, 100),
                        memory_used_gb=round(rnd.uniform(1, 60), 2), memory_total_gb=64.0, network_rx_mbps=1.0,
                        network_tx_mbps=2.0)
        elif table == "cost_metrics_ts":
            base.update(cloud_provider="aws", service_name=f"svc{i % 4}", instance_id=f"i{i}", instance_type="g5",
                        region="eu", cost_per_hour=round(rnd.uniform(0.5, 30), 4),
                        utilization_percent=rnd.uniform(0, 100), is_spot=i % 3 == 0, is_reserved=False)
        else:  # quality_metrics_ts
            base.update(service_id=f"svc{i % 4}", request_id=f"r{i}", model_name=f"m{i % 2}", relevance_score=0.5,
                        coherence_score=0.5, factuality_score=0.5, hallucination_detected=i % 11 == 0,
                        toxicity_score=round(rnd.random(), 3), overall_quality_score=round(rnd.random(), 3),
                        prompt_hash="h", latency_ms=10.0)
        rows.append(base)
    return rows


def run_events(writer, burst, size):
    """One burst of the orchestrator's event log: `size` small messages of one run."""
    return [{"id": writer * 1_000_000 + burst * 10 + k, "run_id": f"run{writer}",
             "timestamp": f"2026-12-03 10:{burst % 60:02d}:{k % 60:02d}", "event": "{}",
             "dagster_event_type": "STEP_SUCCESS", "asset_key": "", "partition_key": "", "step_key": f"s{k}",
             "event_metadata": "{}"} for k in range(size)]


def materializations(n, keys=5):
    """Round `n` of asset materialisations: each of `keys` assets once."""
    return [{"asset_key": f"a{k}", "last_materialization_timestamp": f"2026-12-03 {10 + n % 14}:00:00",
             "last_materialization_storage_id": n, "last_run_id": f"run{n}", "last_materialization_event": "{}"}
            for k in range(keys)]
