# Counts a crate's public API from rustdoc JSON: items reachable from the root (doc(hidden) ones
# excluded) and the public methods of their inherent impls; a second argument lists them.
#   RUSTC_BOOTSTRAP=1 cargo rustdoc -p zfc-core --lib -- -Z unstable-options --output-format json
#   python3 scripts/public-api.py target/doc/zfc_core.json [list]
import json, sys
d = json.load(open(sys.argv[1]))
idx = d["index"]; paths = d["paths"]
def hidden(it):
    return any('hidden' in str(a) for a in (it.get("attrs") or []))
# walk modules from the root, skipping doc(hidden)
seen=set(); items=[]; methods=[]
def walk(mid, prefix):
    m = idx[str(mid)] if str(mid) in idx else None
    if m is None: return
    inner = m["inner"]
    for cid in inner.get("module",{}).get("items",[]):
        it = idx.get(str(cid))
        if it is None or it.get("visibility")!="public" or hidden(it): continue
        kind = next(iter(it["inner"]))
        name = it.get("name")
        if kind=="use":
            tgt = it["inner"]["use"].get("id")
            if tgt is None or str(tgt) not in idx: continue
            it2 = idx[str(tgt)]
            if hidden(it2): continue
            kind = next(iter(it2["inner"])); cid = tgt; name = it["inner"]["use"].get("name") or it2.get("name"); it = it2
        key=(cid)
        if key in seen: continue
        seen.add(key)
        items.append((kind, prefix+"::"+(name or "?")))
        if kind=="module": walk(cid, prefix+"::"+name)
        if kind in ("struct","enum","trait"):
            impls = it["inner"][kind].get("impls",[])
            if kind=="trait": continue
            for iid in impls:
                imp = idx.get(str(iid))
                if not imp: continue
                ii = imp["inner"]["impl"]
                if ii.get("trait") is not None or ii.get("synthetic") or ii.get("blanket_impl"): continue
                for mid2 in ii["items"]:
                    mm = idx.get(str(mid2))
                    if mm and mm.get("visibility")=="public" and not hidden(mm):
                        methods.append(prefix+"::"+name+"::"+mm["name"])
        if kind=="enum":
            pass
walk(d["root"], idx[str(d["root"])]["name"])
from collections import Counter
c=Counter(k for k,_ in items)
print("items", len(items), dict(c), "inherent methods", len(methods))
if len(sys.argv)>2:
    for k,n in sorted(items, key=lambda x:x[1]): print(k, n)
    for m in sorted(methods): print("method", m)
