"""Drives the wanft emulator with the official clients, through everything they cover of the
Wan fine-tuning lifecycle: files (OpenAI SDK), fine-tunes with paged logs and the event stream,
deployments and video synthesis with a local image (dashscope SDK, 1.x API).

Run by tests/sdk_conformance.rs, which starts the emulator and passes:
  WANFT_EMULATOR_BASE   http://127.0.0.1:PORT
  WANFT_EMULATOR_KEY    the key it accepts
  WANFT_TRAINING_ZIP    an i2v training zip
  WANFT_FIRST_FRAME     a local first-frame image
A call an SDK makes that the emulator cannot answer fails the run (exit 1). Where an SDK
disagrees with the spec, the spec wins and the script says why at that call.
"""

import os
import sys
import time

BASE = os.environ["WANFT_EMULATOR_BASE"]
KEY = os.environ["WANFT_EMULATOR_KEY"]
TRAINING_ZIP = os.environ["WANFT_TRAINING_ZIP"]
FIRST_FRAME = os.environ["WANFT_FIRST_FRAME"]

# The dashscope SDK reads its host at import time.
os.environ["DASHSCOPE_HTTP_BASE_URL"] = f"{BASE}/api/v1"
os.environ["DASHSCOPE_API_KEY"] = KEY

import dashscope  # noqa: E402
import openai  # noqa: E402
from dashscope import Deployments, FineTunes, VideoSynthesis  # noqa: E402

dashscope.base_http_api_url = f"{BASE}/api/v1"
dashscope.api_key = KEY

PINNED = {"dashscope": "2.0.2", "openai": "3.57.0"}


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def ok(response, what):
    """A dashscope 1.x answer: status 200, else the call failed."""
    status = getattr(response, "status_code", None)
    check(
        status == 200,
        f"{what}: HTTP {status} {getattr(response, 'code', '')}: "
        f"{getattr(response, 'message', '')}",
    )
    return response.output


def poll(fetch, done, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        check(time.monotonic() < deadline, f"{what}: still waiting after {timeout} s")
        time.sleep(0.1)


def step(name):
    print(f"-- {name}", flush=True)


def main():
    check(dashscope.__version__ == PINNED["dashscope"], f"dashscope {dashscope.__version__}")
    check(openai.__version__ == PINNED["openai"], f"openai {openai.__version__}")

    # Files, OpenAI-compatible (spec §6.1, §6.3).
    step("files (openai)")
    client = openai.OpenAI(api_key=KEY, base_url=f"{BASE}/compatible-mode/v1", max_retries=0)
    with open(TRAINING_ZIP, "rb") as f:
        uploaded = client.files.create(file=f, purpose="fine-tune")
    check(uploaded.id.startswith("file-ft-"), f"file id {uploaded.id}")
    check(uploaded.bytes == os.path.getsize(TRAINING_ZIP), "uploaded size")
    # The OpenAI SDK reads x-request-id (spec §8.7).
    check(bool(uploaded._request_id), "x-request-id on the upload")
    fetched = client.files.retrieve(uploaded.id)
    check(fetched.id == uploaded.id and fetched.purpose == "fine-tune", "retrieve")
    listed = [f.id for f in client.files.list()]
    check(uploaded.id in listed, "list")
    raw = client.files.with_raw_response.retrieve(uploaded.id)
    check(raw.headers.get("x-request-id"), "x-request-id header")

    # Fine-tunes (spec §6.5–§6.10, §8.1, §8.5). No `mode`: the SDK then sends no
    # training_type, which the platform accepts since 2026 (§8.5).
    step("fine-tunes create/get/list")
    created = ok(
        FineTunes.call(
            model="wan2.5-i2v-preview",
            training_file_ids=[uploaded.id],
            hyper_parameters={"n_epochs": 200, "eval_epochs": 20},
        ),
        "FineTunes.call",
    )
    job_id = created["job_id"]
    check(created["training_type"] == "efficient_sft", "training_type defaults to efficient_sft")
    got = ok(FineTunes.get(job_id), "FineTunes.get")
    check(got["job_id"] == job_id, "get")
    listing = ok(FineTunes.list(page_no=1, page_size=10), "FineTunes.list")
    check(any(j["job_id"] == job_id for j in listing["jobs"]), "list holds the job")

    step("fine-tunes stream_events")
    # The SSE stream at /fine-tunes/{id}/stream runs until the job ends.
    events = []
    for event in FineTunes.stream_events(job_id):
        check(event.status_code == 200, f"stream event: {event.status_code}")
        events.append(event.output)
    check(len(events) > 1000, f"{len(events)} events")
    check(any('"SUCCEEDED"' in e for e in events), "the stream reports SUCCEEDED")
    check(any("##FT_COMPLETE##" in e for e in events), "the stream carries the log")
    final = ok(FineTunes.get(job_id), "FineTunes.get")
    check(final["status"] == "SUCCEEDED", f"status {final['status']}")
    check(final["usage"] > 0, "usage")

    step("fine-tunes logs, paged")
    # Spec §8.1: offset skips the first N lines (default 0). The SDK's default offset is 1,
    # which by the spec skips the first line, so it is passed explicitly here.
    lines, offset, total = [], 0, None
    while total is None or offset < total:
        page = ok(FineTunes.logs(job_id, offset=offset, line=1000), "FineTunes.logs")
        check(len(page["logs"]) <= 1000, "a page holds at most 1000 lines")
        lines.extend(page["logs"])
        offset += len(page["logs"])
        total = page["total"]
        check(page["logs"], "a page before the end is not empty")
    check(len(lines) == total > 1000, f"{len(lines)} of {total} lines")
    check(lines[-1].endswith("##FT_COMPLETE##"), "the last line")
    streamed = [e for e in events if '"line"' in e]
    check(len(streamed) == total, "the stream sent every line once")
    first_page = ok(FineTunes.logs(job_id, offset=0, line=100), "FineTunes.logs")
    check(first_page["logs"] == lines[:100], "pages agree")

    # Deployments (spec §6.15–§6.17, §8.6): the SDK cannot send aigc_config.
    step("deployments")
    model_name = final["finetuned_output"]
    deployment = ok(
        Deployments.call(model=model_name, capacity=1, plan="lora"), "Deployments.call"
    )
    deployed = deployment["deployed_model"]
    poll(
        lambda: ok(Deployments.get(deployed), "Deployments.get"),
        lambda d: d["status"] == "RUNNING",
        "deployment",
    )
    listing = ok(Deployments.list(page_no=1, page_size=10), "Deployments.list")
    check(any(d["deployed_model"] == deployed for d in listing["deployments"]), "listed")

    # Video synthesis with a local image: the SDK uploads it through getPolicy and the OSS
    # form, then calls with oss:// and the resolve header (spec §8.7).
    step("video synthesis")
    submitted = VideoSynthesis.async_call(model=deployed, img_url=FIRST_FRAME, prompt="p")
    check(submitted.status_code == 200, f"async_call: {submitted.code} {submitted.message}")
    task_id = submitted.output.task_id
    done = poll(
        lambda: VideoSynthesis.fetch(task_id),
        lambda r: r.status_code != 200 or r.output.task_status in ("SUCCEEDED", "FAILED"),
        "task",
    )
    check(done.status_code == 200, f"fetch: {done.code} {done.message}")
    check(done.output.task_status == "SUCCEEDED", f"task {done.output.task_status}")
    check(done.output.video_url.startswith("http"), "video_url")
    # The SDK reads usage.video_duration for every task (spec §8.10).
    check(done.usage.video_duration == 5, f"video_duration {done.usage.video_duration}")

    # Clean up: deployment, job, file.
    step("clean up")
    ok(Deployments.delete(deployed), "Deployments.delete")
    ok(FineTunes.delete(job_id), "FineTunes.delete")
    second = ok(
        FineTunes.call(
            model="wan2.5-i2v-preview",
            training_file_ids=[uploaded.id],
            hyper_parameters={"n_epochs": 200, "eval_epochs": 20},
        ),
        "FineTunes.call",
    )
    ok(FineTunes.cancel(second["job_id"]), "FineTunes.cancel")
    poll(
        lambda: ok(FineTunes.get(second["job_id"]), "FineTunes.get"),
        lambda j: j["status"] == "CANCELED",
        "cancel",
    )
    ok(FineTunes.delete(second["job_id"]), "FineTunes.delete")
    deleted = client.files.delete(uploaded.id)
    check(deleted.deleted, "file deleted")
    print("conformance: every call answered", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # noqa: BLE001 - any failure fails the run, with its story
        print(f"conformance FAILED: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        sys.exit(1)
