#!/usr/bin/env python3
"""Memory, threads, open files and CPU of `serve` watching N long jobs.

Usage: python3 benches/fleet_memory.py JOBS SECONDS BINARY [TICK_SECONDS]
  e.g. cargo build --release && python3 benches/fleet_memory.py 1000 60 target/release/ops-monitor 10

Each job's status command sleeps 20 ms and reports running; serve runs without a token (console)
under `ulimit -n 1024`. Every 5 s it prints (seconds, RSS MB, threads, open files, open files of
the state database, CPU seconds used, RSS MB of it anonymous: the heap, RSS MB of it file-backed:
mostly the binary's code as it is paged in); at the end the peaks, how many status polls ran (each
appends a line to a file) against the number expected, and whether the log holds "too many open
files". Long form for the memory slope: SECONDS=1800 with 200 jobs.
"""
import json, os, subprocess, sys, time, tempfile
n=int(sys.argv[1]); secs=int(sys.argv[2]); binp=sys.argv[3]
d=tempfile.mkdtemp(prefix="mem")
st=os.path.join(d,"st.sh")
open(st,"w").write("echo x >> "+d+"/calls\nsleep 0.02\necho '{\"running\":true,\"completed\":false,\"progress\":{\"done\":1,\"total\":10}}'\n")
jobs=[{"id":f"j{i}","kind":"long_running_read","risk":"read_only","enabled":True,"commands":{"start":["true"],"status":["sh",st]},"policy":{"reportEverySeconds":3600}} for i in range(n)]
cfg={"version":1,"tickSeconds":int(sys.argv[4]) if len(sys.argv)>4 else 5,"defaults":{"quietHours":None},"jobs":jobs}
open(os.path.join(d,"c.json"),"w").write(json.dumps(cfg))
env=dict(os.environ); env.pop("TELEGRAM_BOT_TOKEN",None); env["OPENCLAW_HOME"]=d; env["RUST_LOG"]="warn"
log=open(os.path.join(d,"serve.log"),"w")
p=subprocess.Popen(["bash","-c",f"ulimit -n 1024; exec {binp} --config-file {d}/c.json --state-file {d}/state/s.db serve"],stdout=subprocess.DEVNULL,stderr=log,env=env)
t0=time.time(); rows=[]
def sample():
    s=open(f"/proc/{p.pid}/status").read()
    rss=int([l for l in s.splitlines() if l.startswith("VmRSS")][0].split()[1])//1024
    thr=int([l for l in s.splitlines() if l.startswith("Threads")][0].split()[1])
    fds=len(os.listdir(f"/proc/{p.pid}/fd"))
    def target(f):
        try: return os.readlink(f"/proc/{p.pid}/fd/{f}")
        except OSError: return ""  # closed since it was listed
    dbfds=sum(1 for f in os.listdir(f"/proc/{p.pid}/fd") if "s.db" in target(f))
    cpu=open(f"/proc/{p.pid}/stat").read().rsplit(")",1)[1].split()
    kb=lambda k: int([l for l in s.splitlines() if l.startswith(k)][0].split()[1])//1024
    return rss,thr,fds,dbfds,(int(cpu[11])+int(cpu[12]))/os.sysconf("SC_CLK_TCK"),kb("RssAnon"),kb("RssFile")
peak=(0,0,0,0)
try:
    while time.time()-t0<secs:
        time.sleep(5)
        try: r=sample()
        except Exception as e: print("sample failed",e); break
        peak=tuple(max(a,b) for a,b in zip(peak,r[:4]))
        rows.append((round(time.time()-t0),)+r)
        print(rows[-1], flush=True)
finally:
    p.terminate(); p.wait()
logtext=open(os.path.join(d,"serve.log")).read()
calls=sum(1 for _ in open(os.path.join(d,"calls"))) if os.path.exists(os.path.join(d,"calls")) else 0
print("status calls:",calls, "per job per tick expected:", secs/cfg["tickSeconds"])
print("peak rss MB, threads, fds, db fds:",peak, "| 'too many open files' in log:", logtext.count("Too many open files")+logtext.count("too many open files"), "| log lines:", logtext.count("\n"))
