import statistics as st, sys
d={}
for l in open(sys.argv[1]):
    p=l.split()
    if len(p)!=4: print("?",l.strip()); continue
    d.setdefault(p[0],[]).append((float(p[1]),float(p[2])+float(p[3]),float(p[2]),float(p[3])))
for k,v in d.items():
    c=[x[1] for x in v]; w=[x[0] for x in v]
    print(f"{k:5} n={len(v)} cpu med {st.median(c):.2f} ({min(c):.2f}-{max(c):.2f}) user {st.median([x[2] for x in v]):.2f} sys {st.median([x[3] for x in v]):.2f} wall {st.median(w):.2f} ({min(w):.2f}-{max(w):.2f})")
