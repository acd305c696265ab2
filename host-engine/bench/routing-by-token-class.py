#!/usr/bin/env python3
"""Which experts each kind of token goes to: reads routes.jsonl (analyzer export), the run report (host --report,
for the token ids of every position) and the model's tokenizer.json, classes every routed token as number /
operator / word / space / punctuation / special, and prints per layer how concentrated each class's expert
distribution is (each distinct token weighted equally, so one frequent token cannot make a class look
specialised) and how far apart the classes' distributions are (Jensen-Shannon divergence). Standard library only.

usage: routing-by-token-class.py routes.jsonl run.json tokenizer.json
"""
import json
import math
import sys
from collections import Counter, defaultdict


def byte_decoder():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def token_texts(tokenizer_file):
    t = json.load(open(tokenizer_file, encoding='utf-8'))
    dec = byte_decoder()
    texts = {}
    for s, i in t['model']['vocab'].items():
        texts[i] = bytes(dec[c] for c in s).decode('utf-8', 'replace')
    special = {a['id'] for a in t.get('added_tokens', [])}
    for a in t.get('added_tokens', []):
        texts[a['id']] = a['content']
    return texts, special


def classify(text, special):
    if special:
        return 'special'
    s = text.strip()
    if s == '':
        return 'space'
    if all(c.isdigit() or c in '.,' for c in s) and any(c.isdigit() for c in s):
        return 'number'
    if all(c in '+-*/=<>x%' for c in s) and not s.isalpha():
        return 'operator'
    if s.isalpha():
        return 'word'
    return 'punct'


def entropy(counter):
    total = sum(counter.values())
    return -sum(c / total * math.log2(c / total) for c in counter.values() if c)


def type_averaged(per_type):
    """A class's expert distribution with every distinct token of the class weighted equally."""
    dist = Counter()
    for experts in per_type.values():
        total = sum(experts.values())
        for e, c in experts.items():
            dist[e] += c / total / len(per_type)
    return dist


def jsd(p, q):
    keys = set(p) | set(q)
    m = {k: (p.get(k, 0) + q.get(k, 0)) / 2 for k in keys}
    def kl(a):
        return sum(a[k] * math.log2(a[k] / m[k]) for k in keys if a.get(k, 0) > 0)
    return (kl(p) + kl(q)) / 2


def main(routes_file, report_file, tokenizer_file):
    texts, specials = token_texts(tokenizer_file)
    report = json.load(open(report_file))
    seqs = {r['req_id']: r['prompt_ids'] + r['generated_ids'] for r in report['requests']}
    by_layer = defaultdict(lambda: defaultdict(lambda: defaultdict(Counter)))  # layer -> class -> token -> expert
    experts_seen = 0
    for line in open(routes_file):
        r = json.loads(line)
        if r.get('type') == 'meta':
            experts_seen = r['num_experts']
        if r.get('type') != 'route':
            continue
        tok = seqs[r['req_id']][r['token_idx']]
        cls = classify(texts.get(tok, ''), tok in specials)
        for e in r['topk_ids']:
            by_layer[r['layer']][cls][tok][e] += 1
    hmax = math.log2(experts_seen)
    first = next(iter(by_layer.values()))
    print('distinct routed tokens per class: ' + ', '.join(f'{c} {len(first[c])}' for c in CLASSES if c in first))
    print('per class: H/log2(E) of its expert distribution (each distinct token weighted equally), top-3 experts;')
    print('JSD(a,b): Jensen-Shannon divergence in bits between two classes\' distributions (0 = same experts, 1 = disjoint)')
    print('layer  ' + '  '.join(f'{c:>8}' for c in ('number', 'operator', 'word')) +
          '   JSD(num,word) JSD(op,word) JSD(num,op)  top experts: number | operator | word')
    for layer in sorted(by_layer):
        classes = by_layer[layer]
        dist = {c: type_averaged(classes[c]) for c in classes}
        hs = '  '.join(f'{entropy(dist[c]) / hmax:8.3f}' if c in dist else f'{"-":>8}'
                       for c in ('number', 'operator', 'word'))
        def j(a, b):
            return f'{jsd(dist[a], dist[b]):.3f}' if a in dist and b in dist else '-'
        tops = ' | '.join(','.join(str(e) for e, _ in dist[c].most_common(3)) if c in dist else '-'
                          for c in ('number', 'operator', 'word'))
        print(f'{layer:5d}  {hs}   {j("number", "word"):>13} {j("operator", "word"):>12} {j("number", "operator"):>11}'
              f'  {tops}')


CLASSES = ('number', 'operator', 'word', 'space', 'punct', 'special')


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
