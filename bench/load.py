"""A load generator, run as its own process so that it measures the server from outside:
a number of clients, each repeating its requests (or SQL transactions) back to back, in
a few processes of threads, for a fixed window after a warm-up.

    .venv/bin/python bench/load.py < spec.json      # prints the result as JSON

The spec: {"kind": "http", "host", "port"} or {"kind": "sql", "dsn"}; "clients", one
entry per concurrent client; "processes", "warmup" and "seconds". An HTTP client has
"requests" (each method, path, headers and body), taken in turn, and the status it
"expects"; an SQL client has "statements", one transaction's worth with its BEGIN and
COMMIT, run in autocommit mode so that statements outside them run as they did in the
app. Where a body or statement holds __COUNTER__, it is replaced by the client's
"counter", which grows by one after each success: an edit's version number, say.

Only the standard library for HTTP (sync gunicorn workers close the connection after each
response, so each request opens one, as wrk would); psycopg, the app's own driver, for SQL.
"""

import http.client
import json
import multiprocessing
import statistics
import sys
import threading
import time

COUNTER = "__COUNTER__"


def http_client(spec, client):
    """One HTTP client: a function doing its next request, returning whether the server
    answered as expected (and a description when not)."""
    requests = client["requests"]
    counter = client.get("counter")
    step = 0

    def next_request():
        nonlocal counter, step
        request = requests[step % len(requests)]
        step += 1
        body = request.get("body")
        if body is not None and counter is not None:
            body = body.replace(COUNTER, str(counter))
        connection = http.client.HTTPConnection(spec["host"], spec["port"], timeout=30)
        try:
            connection.request(request["method"], request["path"], body, request["headers"])
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        if response.status != client["expect"]:
            return f"{request['method']} {request['path']}: {response.status}"
        if counter is not None:
            counter += 1
        return None

    return next_request, lambda: None


def sql_client(spec, client):
    """One database client replaying its statements as one unit of work."""
    import psycopg

    connection = psycopg.connect(spec["dsn"], autocommit=True)
    statements = client["statements"]
    counter = client.get("counter")

    def next_unit():
        nonlocal counter
        with connection.cursor() as cursor:
            try:
                for statement in statements:
                    if counter is not None:
                        statement = statement.replace(COUNTER, str(counter))
                    cursor.execute(statement)
                    if cursor.description:
                        cursor.fetchall()
            except psycopg.Error as error:
                if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    cursor.execute("ROLLBACK")
                return f"{type(error).__name__}: {str(error).splitlines()[0]}"
        if counter is not None:
            counter += 1
        return None

    return next_unit, connection.close


CLIENT_KINDS = {"http": http_client, "sql": sql_client}


def run_clients(spec, clients, start, results):
    """Run `clients` as threads from `start` (time.monotonic) through the warm-up and
    the window; send what ended in the window (latencies, errors) through `results`."""
    measure_from = start + spec["warmup"]
    measure_to = measure_from + spec["seconds"]
    latencies, errors = [], []
    lock = threading.Lock()

    def loop(client):
        work, close = CLIENT_KINDS[spec["kind"]](spec, client)
        mine, failures = [], []
        time.sleep(max(0.0, start - time.monotonic()))
        try:
            while (began := time.monotonic()) < measure_to:
                try:
                    problem = work()
                except OSError as error:
                    problem = f"{type(error).__name__}: {error}"
                ended = time.monotonic()
                if measure_from <= ended <= measure_to:
                    (failures.append(problem) if problem else mine.append(ended - began))
        finally:
            close()
        with lock:
            latencies.extend(mine)
            errors.extend(failures)

    threads = [threading.Thread(target=loop, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.send((latencies, errors))
    results.close()


def run(spec):
    """Run the clients of `spec` and summarise what the window measured."""
    processes = max(1, min(spec.get("processes", 1), len(spec["clients"])))
    # Started before any thread exists in this process, so forking is safe.
    context = multiprocessing.get_context("fork")
    start = time.monotonic() + 0.2 * processes
    workers = []
    for number in range(processes):
        receiving, sending = context.Pipe(duplex=False)
        clients = spec["clients"][number::processes]
        process = context.Process(target=run_clients, args=(spec, clients, start, sending))
        process.start()
        sending.close()
        workers.append((process, receiving))
    latencies, errors = [], []
    for process, receiving in workers:
        mine, failures = receiving.recv()
        latencies.extend(mine)
        errors.extend(failures)
        process.join()
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "per_second": len(latencies) / spec["seconds"],
        "median_ms": statistics.median(latencies) * 1000 if latencies else None,
        "p90_ms": latencies[int(len(latencies) * 0.9)] * 1000 if latencies else None,
    }


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
