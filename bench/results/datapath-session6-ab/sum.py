import sys,statistics as st
d={}
for l in open(sys.argv[1]):
    p=l.split()
    if len(p)!=4: continue
    d.setdefault(p[0],[]).append((float(p[1]),float(p[2])+float(p[3])))
for k,v in sorted(d.items()):
    w=[a for a,b in v]; c=[b for a,b in v]
    print(f"{k}: n={len(v)} wall med {st.median(w):.3f} ({min(w):.3f}-{max(w):.3f})  cpu med {st.median(c):.2f} ({min(c):.2f}-{max(c):.2f})")
