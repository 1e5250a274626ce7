"""Import graph per crate: file -> files it names in `use crate::`/`crate::`/`super::` paths; prints cycles."""
import re, os, sys, glob
def modpath(src, f):
    rel=os.path.relpath(f, src)[:-3].split('/')
    if rel[-1] in ('mod','lib'): rel=rel[:-1]
    return tuple(rel)
def expand(tree):
    # 'a::{b, c::d}' -> ['a::b','a::c::d'] (one level of braces, nested handled recursively)
    tree=tree.strip()
    m=re.match(r'^(.*?)\{(.*)\}$', tree, re.S)
    if not m: return [tree]
    prefix=m.group(1); inner=m.group(2); parts=[];depth=0;cur=''
    for ch in inner:
        if ch=='{': depth+=1
        if ch=='}': depth-=1
        if ch==',' and depth==0: parts.append(cur); cur=''
        else: cur+=ch
    parts.append(cur)
    out=[]
    for p in parts:
        if p.strip(): out+= [prefix+x for x in expand(p.strip())]
    return out
bad=0
for crate in sorted(glob.glob(sys.argv[1]+'/crates/*/src'))+[sys.argv[1]+'/benches/src']:
    if not os.path.isdir(crate): continue
    files=glob.glob(crate+'/**/*.rs', recursive=True)
    mods={modpath(crate,f):f for f in files}
    edges={f:set() for f in files}
    for f in files:
        me=modpath(crate,f)
        s=open(f).read()
        s=re.sub(r'//[^\n]*','',s)
        paths=[]
        for m in re.finditer(r'\buse\s+((?:crate|super|self)::[^;]*);', s, re.S):
            paths+=expand(m.group(1))
        for m in re.finditer(r'\b((?:crate|super)(?:::\w+)+)', s):
            paths.append(m.group(1))
        for p in paths:
            segs=[x.strip() for x in p.split('::')]
            if segs[0]=='crate': base=()
            elif segs[0]=='super':
                base=me[:-1] if not f.endswith(('mod.rs','lib.rs')) else me[:-1]
                # super in a file module a/b.rs -> a ; in a/mod.rs -> parent of a
                base=me[:-1]
            else: base=me
            rest=segs[1:]
            best=None
            for k in range(len(rest),-1,-1):
                cand=base+tuple(rest[:k])
                if cand in mods: best=mods[cand]; break
            if best and best!=f: edges[f].add(best)
    # cycles via DFS (report strongly connected components > 1)
    index={};low={};st=[];on=set();sccs=[];c=[0]
    def sc(v):
        index[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
        for w in edges[v]:
            if w not in index: sc(w); low[v]=min(low[v],low[w])
            elif w in on: low[v]=min(low[v],index[w])
        if low[v]==index[v]:
            comp=[]
            while True:
                w=st.pop();on.discard(w);comp.append(w)
                if w==v: break
            if len(comp)>1: sccs.append(comp)
    sys.setrecursionlimit(10000)
    for v in files:
        if v not in index: sc(v)
    name=os.path.relpath(crate, sys.argv[1])
    if sccs:
        bad+=1
        for comp in sccs: print(name, 'CYCLE:', sorted(os.path.relpath(x,crate) for x in comp))
    else: print(name, f'no cycles ({len(files)} files, {sum(len(e) for e in edges.values())} import edges)')
sys.exit(1 if bad else 0)
